package config

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/catalog"
)

// The example file's comments give the catalog's default for every budget
// key left at 0, and the server's conversion to catalog.Budget keeps every
// value in its place.
func TestExampleBudgetShowsCatalogDefaults(t *testing.T) {
	raw, err := os.ReadFile("../config.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	section := string(raw[strings.Index(string(raw), "  budget:\n"):])
	var b catalog.Budget
	for key, def := range map[string]any{
		"max_problems_per_file": b.ProblemsPerFile(), "max_problems": b.Problems(), "max_packages": b.Packages(),
		"max_paths": b.Paths(), "max_index_children": b.IndexChildren(), "max_sbom_layers": b.SBOMLayers(),
		"max_sbom_bytes": b.SBOMBytes(), "max_record_bytes": b.RecordBytes(), "deadline": b.ImageDeadline(),
		"max_attempts": b.Attempts(),
	} {
		comment := regexp.MustCompile(`(?s)\(default\s+(?:#\s+)?` + regexp.QuoteMeta(fmt.Sprint(def)) + `\)[^:]*?\n\s+(?:\w+: 0s?\n\s+)?` + key + `: 0s?\n`)
		if !comment.MatchString(section) {
			t.Errorf("config.example.yml does not give %s's default, %v, in the comment above it", key, def)
		}
	}
	cfg := Budget{MaxProblemsPerFile: 1, MaxProblems: 2, MaxPackages: 3, MaxPaths: 4, MaxIndexChildren: 5, MaxSBOMLayers: 6,
		MaxSBOMBytes: 7, MaxRecordBytes: 8, Deadline: 9, MaxAttempts: 10}
	want := catalog.Budget{MaxProblemsPerFile: 1, MaxProblems: 2, MaxPackages: 3, MaxPaths: 4, MaxIndexChildren: 5, MaxSBOMLayers: 6,
		MaxSBOMBytes: 7, MaxRecordBytes: 8, Deadline: 9, MaxAttempts: 10}
	if got := catalog.Budget(cfg); got != want {
		t.Errorf("converted %+v, want %+v", got, want)
	}
}

func TestNegativeBudgetRefused(t *testing.T) {
	_, err := Load("", []string{"OYSTER_CATALOG_BUDGET_MAX_PACKAGES=-1"})
	if err == nil || err.Error() != "config: catalog.budget.max_packages is -1; it must be positive, or 0 for the default" {
		t.Errorf("err = %v", err)
	}
	cfg, err := Load("", []string{"OYSTER_CATALOG_BUDGET_DEADLINE=90s"})
	if err != nil || cfg.Catalog.Budget.Deadline.Seconds() != 90 {
		t.Errorf("deadline %v, %v", cfg.Catalog.Budget.Deadline, err)
	}
}
