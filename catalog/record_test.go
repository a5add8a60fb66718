package catalog

import (
	"reflect"
	"testing"
)

func TestFindPackages(t *testing.T) {
	pkgs := []Package{
		{Name: "NumPy", Ecosystem: "python"}, {Name: "numpy-base", Ecosystem: "conda"},
		{Name: "libc6", Ecosystem: "deb"},
	}
	names := func(ps []Package) []string {
		out := []string{}
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	cases := []struct {
		name, eco string
		want      []string
	}{
		{"", "", []string{"NumPy", "numpy-base", "libc6"}},
		{"numpy", "", []string{"NumPy", "numpy-base"}},
		{"NUMPY", "conda", []string{"numpy-base"}},
		{"", "deb", []string{"libc6"}},
		{"numpy", "deb", []string{}},
		{"", "Python", []string{}}, // ecosystems are exact
	}
	for _, tc := range cases {
		if got := names(FindPackages(pkgs, tc.name, tc.eco)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("FindPackages(%q, %q) = %q, want %q", tc.name, tc.eco, got, tc.want)
		}
	}
}

func TestStartable(t *testing.T) {
	for kind, want := range map[string]bool{KindImage: true, KindIndex: true, KindSIF: false, KindArtifact: false} {
		if got := (&Record{Kind: kind}).Startable(); got != want {
			t.Errorf("%s: startable %v, want %v", kind, got, want)
		}
	}
}
