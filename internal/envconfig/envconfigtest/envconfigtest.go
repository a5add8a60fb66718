// Package envconfigtest checks a configuration's example file in tests,
// the same way for the registry's configuration and the stager's.
package envconfigtest

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// RequireDocumented fails t for every environment key (<prefix>_<PATH>)
// whose YAML path is missing from the example file at path.
func RequireDocumented(t testing.TB, path, prefix string, keys []string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal(raw, &tree); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(keys) == 0 {
		t.Fatal("no keys to look for")
	}
	for _, key := range keys {
		parts := strings.Split(strings.ToLower(strings.TrimPrefix(key, prefix+"_")), "_")
		if !hasPath(tree, parts) {
			t.Errorf("%s does not document %s", path, key)
		}
	}
}

// hasPath walks the YAML tree; keys may themselves contain underscores.
func hasPath(node any, parts []string) bool {
	if len(parts) == 0 {
		return true
	}
	m, ok := node.(map[string]any)
	if !ok {
		return false
	}
	for i := len(parts); i > 0; i-- {
		if child, ok := m[strings.Join(parts[:i], "_")]; ok && hasPath(child, parts[i:]) {
			return true
		}
	}
	return false
}
