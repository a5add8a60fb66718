package scan

import (
	"sort"
	"strings"
)

// pathTree holds findings by path, one node per path segment, so that
// deleting a directory with everything below it unlinks one node instead
// of visiting every path.
type pathTree struct {
	children map[string]*pathTree
	finding  *Finding
}

func newPathTree() *pathTree { return &pathTree{} }

// node returns the node of p ("" is the root), creating it when create is
// set; nil when it does not exist.
func (t *pathTree) node(p string, create bool) *pathTree {
	n := t
	for seg := range segments(p) {
		next := n.children[seg]
		if next == nil {
			if !create {
				return nil
			}
			if n.children == nil {
				n.children = map[string]*pathTree{}
			}
			next = &pathTree{}
			n.children[seg] = next
		}
		n = next
	}
	return n
}

// segments yields the slash-separated parts of p; none for "".
func segments(p string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for p != "" {
			seg, rest, _ := strings.Cut(p, "/")
			if !yield(seg) {
				return
			}
			p = rest
		}
	}
}

// put sets the finding at f.Path, replacing what was there.
func (t *pathTree) put(f Finding) {
	t.node(f.Path, true).finding = &f
}

// get returns the finding at p, or nil.
func (t *pathTree) get(p string) *Finding {
	if n := t.node(p, false); n != nil {
		return n.finding
	}
	return nil
}

// delete removes p and everything below it.
func (t *pathTree) delete(p string) {
	dir, base := "", p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		dir, base = p[:i], p[i+1:]
	}
	if parent := t.node(dir, false); parent != nil {
		delete(parent.children, base)
	}
}

// deleteBelow removes everything strictly inside dir ("" is the root).
func (t *pathTree) deleteBelow(dir string) {
	if n := t.node(dir, false); n != nil {
		n.children = nil
	}
}

// findings lists every finding, sorted by path.
func (t *pathTree) findings() []Finding {
	var out []Finding
	var walk func(n *pathTree)
	walk = func(n *pathTree) {
		if n.finding != nil {
			out = append(out, *n.finding)
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(t)
	sortFindings(out)
	return out
}

func sortFindings(fs []Finding) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Path < fs[j].Path })
}
