package depcheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/oyster-registry/oyster"

// anyOfOurs, in a rule's deny list, stands for every package of this
// module outside the rule's own tree.
const anyOfOurs = "*"

// rule forbids arrows from the packages under from (a path inside the
// module; "" is every package) to the packages under each deny path. A
// path covers its subpackages. Only non-test imports are checked, and
// transitively: catalog → events → server breaks the catalog rule too.
type rule struct {
	from string
	deny []string
	why  string
}

// rules is the layering docs/architecture.md describes, in one table.
var rules = []rule{
	{"oci", []string{anyOfOurs}, "OCI and SIF primitives know nothing of ours"},
	{"api", []string{anyOfOurs}, "the JSON shapes API clients share are types only"},
	{"catalog", []string{"server", "web"}, "the catalog decides; it never serves"},
	{"catalog/scan", []string{"catalog/extract", "catalog/state", "catalog/indexer", "catalog/search"}, "scanning is bytes to facts: no storage, no store"},
	{"catalog/search", []string{"catalog/scan", "catalog/extract", "catalog/state", "catalog/indexer"}, "search knows the record model only"},
	{"web", []string{"server"}, "web renders and routes; the server composes it"},
	{"stager", []string{"web", "catalog", "server"}, "the node daemon shares JSON shapes through api only"},
	{"library", []string{"server", "web", "events", "referrers", "catalog/state", "catalog/indexer", "catalog/extract"}, "the Library API reads and writes through the registry's /v2/ handler and asks the catalog's search only"},
	{"recipes", []string{"gitsync", "catalog", "web", "server"}, "recipes find, parse and build; they know no webhooks or catalog"},
	{"gitsync", []string{"web", "server"}, "gitsync tracks repositories and queues builds; the server composes it"},
	{"auth", []string{anyOfOurs}, "identity is a leaf plugged into distribution; it knows no catalog, web or server"},
	{"", []string{"cmd"}, "mains are leaves"},
}

// under reports whether pkg (a path inside the module) is dir or below it.
func under(pkg, dir string) bool {
	return dir == "" || pkg == dir || strings.HasPrefix(pkg, dir+"/")
}

// denied reports whether r forbids its packages to depend on target. An
// arrow inside a denied tree (cmd/x → cmd/x/y) is that tree's own business.
func (r rule) denied(importer, target string) bool {
	for _, d := range r.deny {
		if d == anyOfOurs && !under(target, r.from) {
			return true
		}
		if d != anyOfOurs && under(target, d) && !under(importer, d) {
			return true
		}
	}
	return false
}

// violations returns one line per forbidden dependency: the shortest chain
// of imports that creates it and the rule's reason. imports maps each of
// our packages (paths inside the module) to the packages of ours it
// imports directly. A chain stops at its first forbidden package: what
// that package imports in turn is reported once, not again for every
// package above it.
func violations(imports map[string][]string) []string {
	var out []string
	for _, r := range rules {
		for _, pkg := range sortedKeys(imports) {
			if !under(pkg, r.from) {
				continue
			}
			forbidden := func(target string) bool { return r.denied(pkg, target) }
			for _, chain := range forbiddenChains(imports, pkg, forbidden) {
				out = append(out, fmt.Sprintf("%s  (%s)", strings.Join(chain, " -> "), r.why))
			}
		}
	}
	return out
}

// forbiddenChains walks pkg's dependencies breadth first and returns the
// shortest chain of imports to each forbidden package it reaches.
func forbiddenChains(imports map[string][]string, pkg string, forbidden func(string) bool) [][]string {
	seen := map[string]bool{pkg: true}
	var found [][]string
	frontier := [][]string{{pkg}}
	for len(frontier) > 0 {
		var next [][]string
		for _, chain := range frontier {
			for _, dep := range imports[chain[len(chain)-1]] {
				if seen[dep] {
					continue
				}
				seen[dep] = true
				c := append(slices.Clone(chain), dep)
				if forbidden(dep) {
					found = append(found, c)
				} else {
					next = append(next, c)
				}
			}
		}
		frontier = next
	}
	return found
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ourImports lists every package of the module with the packages of ours it
// imports, as `go list` sees them.
func ourImports(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,Error", module+"/...")
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("go list: %v\n%s", err, exit.Stderr)
	}
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
			Error      *struct{ Err string }
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("reading go list output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		name, ok := inModule(p.ImportPath)
		if !ok {
			continue
		}
		imports[name] = nil
		for _, imp := range p.Imports {
			if dep, ok := inModule(imp); ok {
				imports[name] = append(imports[name], dep)
			}
		}
	}
	return imports
}

// inModule turns an import path of ours into its path inside the module.
func inModule(importPath string) (string, bool) {
	if importPath == module {
		return "", true
	}
	return strings.CutPrefix(importPath, module+"/")
}

// TestImportDirection fails when an import points the wrong way, naming the
// arrow.
func TestImportDirection(t *testing.T) {
	imports := ourImports(t)
	if len(imports) < 10 || imports["server"] == nil {
		t.Fatalf("go list found %d packages and nothing imported by server; is this the module root?", len(imports))
	}
	for _, v := range violations(imports) {
		t.Errorf("forbidden import: %s", v)
	}
}

// TestRulesBite runs the rules over a made-up module with one wrong arrow
// per rule, and one allowed arrow of each kind.
func TestRulesBite(t *testing.T) {
	imports := map[string][]string{
		"cmd/registry":       {"server", "cmd/registry/flags"},
		"cmd/registry/flags": nil,
		"server":             {"web", "catalog/indexer", "oci"},
		"web":                {"catalog", "api", "server/metrics"},
		"server/metrics":     nil,
		"catalog":            {"oci"},
		"catalog/indexer":    {"catalog", "events"},
		"events":             {"web"},
		"oci":                {"oci/sif"},
		"oci/sif":            {"internal/boltdb"},
		"internal/boltdb":    nil,
		"api":                nil,
		"stager":             {"api", "oci", "catalog"},
		"tools":              {"cmd/registry"},
	}
	got := violations(imports)
	want := []string{
		"oci -> oci/sif -> internal/boltdb  (OCI and SIF primitives know nothing of ours)",
		"oci/sif -> internal/boltdb  (OCI and SIF primitives know nothing of ours)",
		"catalog/indexer -> events -> web  (the catalog decides; it never serves)",
		"web -> server/metrics  (web renders and routes; the server composes it)",
		"stager -> catalog  (the node daemon shares JSON shapes through api only)",
		"tools -> cmd/registry  (mains are leaves)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
