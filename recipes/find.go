package recipes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// ConfigFile is the optional file at a repository's root that maps recipe
// paths to repositories and build settings.
const ConfigFile = "oyster.yaml"

// config is oyster.yaml.
type config struct {
	// Recipes maps a recipe path (relative to the root) to its settings.
	Recipes map[string]recipeConfig `yaml:"recipes"`
}

type recipeConfig struct {
	Repository string            `yaml:"repository"`
	Context    string            `yaml:"context"`
	Tags       []string          `yaml:"tags"`
	BuildArgs  map[string]string `yaml:"build_args"`
	Platforms  []string          `yaml:"platforms"`
	Hub        bool              `yaml:"hub"`
}

// KindOf says which kind of recipe a file name is, or "" for none.
func KindOf(name string) Kind {
	base := path.Base(name)
	switch {
	case base == "Dockerfile" || base == "Containerfile",
		strings.HasSuffix(base, ".Dockerfile") || strings.HasSuffix(base, ".Containerfile"):
		return Dockerfile
	case base == "Singularity" || strings.HasPrefix(base, "Singularity.") || strings.HasSuffix(base, ".def"):
		return Definition
	}
	return ""
}

// Find returns the recipes in the tree fsys, sorted by path, with the
// settings of its oyster.yaml. prefix starts every derived repository
// name (a source's name). Symbolic links are never recipes.
func Find(fsys fs.FS, prefix string) ([]Recipe, error) {
	cfg, err := readConfig(fsys)
	if err != nil {
		return nil, err
	}
	var found []Recipe
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return nil
		}
		if kind := KindOf(p); kind != "" && d.Type().IsRegular() {
			found = append(found, Recipe{Path: p, Kind: kind, Repository: derivedName(prefix, p), Context: path.Dir(p), Tags: DefaultTags})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	byRepo := map[string]string{}
	for i := range found {
		if c, ok := cfg.Recipes[found[i].Path]; ok {
			if err := c.apply(&found[i]); err != nil {
				return nil, fmt.Errorf("%s: recipe %s: %w", ConfigFile, found[i].Path, err)
			}
			delete(cfg.Recipes, found[i].Path)
		}
		if other, dup := byRepo[found[i].Repository]; dup {
			return nil, fmt.Errorf("recipes %s and %s both make repository %s: name one in %s", other, found[i].Path, found[i].Repository, ConfigFile)
		}
		byRepo[found[i].Repository] = found[i].Path
	}
	for p := range cfg.Recipes {
		return nil, fmt.Errorf("%s names recipe %s, which is not a regular recipe file in the repository", ConfigFile, p)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Path < found[j].Path })
	return found, nil
}

func readConfig(fsys fs.FS) (config, error) {
	var cfg config
	raw, err := fs.ReadFile(fsys, ConfigFile)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return cfg, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	return cfg, nil
}

func (c recipeConfig) apply(r *Recipe) error {
	if c.Repository != "" {
		if !repositoryName.MatchString(c.Repository) {
			return fmt.Errorf("repository %q is not a valid repository name", c.Repository)
		}
		r.Repository = c.Repository
	}
	if c.Context != "" {
		ctx, err := InsidePath(c.Context)
		if err != nil {
			return fmt.Errorf("context: %w", err)
		}
		r.Context = ctx
	}
	if len(c.Tags) > 0 {
		r.Tags = c.Tags
	}
	r.BuildArgs, r.Platforms, r.Hub = c.BuildArgs, c.Platforms, c.Hub
	return nil
}

// InsidePath cleans a slash-separated path that must stay inside the
// repository; "../x" and "/x" are refused.
func InsidePath(p string) (string, error) {
	clean := path.Clean(p)
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%s reaches outside the repository", p)
	}
	return clean, nil
}

// repositoryName is the distribution-spec's repository name grammar.
var repositoryName = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)

// derivedName is the repository of a recipe oyster.yaml does not name: the
// prefix, the recipe's directory, and the distinguishing part of its file
// name (gpu.Dockerfile → gpu, Singularity.gpu → gpu, gpu.def → gpu).
func derivedName(prefix, p string) string {
	parts := []string{prefix}
	if dir := path.Dir(p); dir != "." {
		parts = append(parts, strings.Split(dir, "/")...)
	}
	base := path.Base(p)
	for _, cut := range []string{".Dockerfile", ".Containerfile", ".def"} {
		if s, ok := strings.CutSuffix(base, cut); ok {
			parts = append(parts, s)
		}
	}
	if s, ok := strings.CutPrefix(base, "Singularity."); ok {
		parts = append(parts, s)
	}
	var clean []string
	for _, part := range parts {
		if c := nameComponent(part); c != "" {
			clean = append(clean, c)
		}
	}
	return strings.Join(clean, "/")
}

var notNameChars = regexp.MustCompile(`[^a-z0-9]+`)

// nameComponent lower-cases s and turns what a repository name may not
// hold into single dashes.
func nameComponent(s string) string {
	return strings.Trim(notNameChars.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// ValidRepository reports whether name is a valid repository name.
func ValidRepository(name string) bool { return repositoryName.MatchString(name) }
