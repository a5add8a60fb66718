package scan

import (
	"sort"
	"strings"
)

// pathTree holds findings by path, one node per path segment, so that
// deleting a directory with everything below it unlinks one node instead
// of visiting every path. The root counts the findings and packages the
// tree holds.
type pathTree struct {
	root     *pathNode
	paths    int // findings held
	packages int // packages of those findings
}

type pathNode struct {
	children map[string]*pathNode
	finding  *Finding
}

func newPathTree() *pathTree { return &pathTree{root: &pathNode{}} }

// node returns the node of p ("" is the root), creating it when create is
// set; nil when it does not exist.
func (t *pathTree) node(p string, create bool) *pathNode {
	n := t.root
	for p != "" {
		seg, rest, _ := strings.Cut(p, "/")
		next := n.children[seg]
		if next == nil {
			if !create {
				return nil
			}
			if n.children == nil {
				n.children = map[string]*pathNode{}
			}
			next = &pathNode{}
			n.children[seg] = next
		}
		n, p = next, rest
	}
	return n
}

// put sets the finding at f.Path, replacing what was there.
func (t *pathTree) put(f Finding) {
	n := t.node(f.Path, true)
	if n.finding != nil {
		t.paths--
		t.packages -= len(n.finding.Packages)
	}
	n.finding = &f
	t.paths++
	t.packages += len(f.Packages)
}

// get returns the finding at p, or nil.
func (t *pathTree) get(p string) *Finding {
	if n := t.node(p, false); n != nil {
		return n.finding
	}
	return nil
}

// delete removes p and everything below it. Counting what it removes
// visits each finding once in the tree's life, so merging stays linear.
func (t *pathTree) delete(p string) {
	dir, base := "", p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		dir, base = p[:i], p[i+1:]
	}
	parent := t.node(dir, false)
	if parent == nil || parent.children[base] == nil {
		return
	}
	t.forget(parent.children[base])
	delete(parent.children, base)
}

// deleteBelow removes everything strictly inside dir ("" is the root).
func (t *pathTree) deleteBelow(dir string) {
	if n := t.node(dir, false); n != nil {
		for _, c := range n.children {
			t.forget(c)
		}
		n.children = nil
	}
}

// forget uncounts the findings of n and below.
func (t *pathTree) forget(n *pathNode) {
	n.walk(func(f *Finding) {
		t.paths--
		t.packages -= len(f.Packages)
	})
}

func (n *pathNode) walk(fn func(*Finding)) {
	if n.finding != nil {
		fn(n.finding)
	}
	for _, c := range n.children {
		c.walk(fn)
	}
}

// findings lists every finding, sorted by path.
func (t *pathTree) findings() []Finding {
	var out []Finding
	t.root.walk(func(f *Finding) { out = append(out, *f) })
	sortFindings(out)
	return out
}

func sortFindings(fs []Finding) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Path < fs[j].Path })
}
