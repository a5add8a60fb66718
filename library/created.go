package library

import (
	"github.com/oyster-registry/oyster/internal/atomicfile"

	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sync"
)

// createdSet is the entity, collection and container paths created
// through the API, kept in a small JSON file (a sorted list) so that one
// created empty survives a restart; with no file, in memory only.
type createdSet struct {
	mu    sync.Mutex
	path  string
	paths map[string]bool
}

// loadCreated reads the set from path ("" for memory only); a missing file
// is an empty set.
func loadCreated(path string) (*createdSet, error) {
	c := &createdSet{path: path, paths: map[string]bool{}}
	if path == "" {
		return c, nil
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("library namespaces %s: %w", path, err)
	}
	for _, p := range list {
		if _, err := parsePath(p, 1, 3); err != nil {
			return nil, fmt.Errorf("library namespaces %s: %w", path, err)
		}
		c.paths[p] = true
	}
	return c, nil
}

// add records p; the file is replaced whole, atomically.
func (c *createdSet) add(p string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paths[p] {
		return nil
	}
	if c.path != "" {
		next := append(slices.Sorted(maps.Keys(c.paths)), p)
		slices.Sort(next)
		raw, _ := json.Marshal(next) // strings: cannot fail
		if err := atomicfile.WriteFile(c.path, raw, 0o644); err != nil {
			return fmt.Errorf("recording library namespace %s: %w", p, err)
		}
	}
	c.paths[p] = true
	return nil
}

// all returns a copy of the set.
func (c *createdSet) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Collect(maps.Keys(c.paths))
}
