package envconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type sample struct {
	Name  string        `yaml:"name"`
	Every time.Duration `yaml:"every"`
	Inner struct {
		Count int `yaml:"count"`
	} `yaml:"inner"`
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFileThenEnvironment(t *testing.T) {
	cfg := sample{Name: "default", Every: time.Minute}
	p := writeFile(t, "name: file\ninner:\n  count: 2\n")
	if err := Load(&cfg, p, "T", []string{"T_INNER_COUNT=3", "OTHER_NAME=x"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "file" || cfg.Inner.Count != 3 || cfg.Every != time.Minute {
		t.Errorf("loaded %+v", cfg)
	}
}

func TestLoadEmptyFileKeepsDefaults(t *testing.T) {
	cfg := sample{Name: "default"}
	if err := Load(&cfg, writeFile(t, ""), "T", nil); err != nil || cfg.Name != "default" {
		t.Errorf("empty file: %+v, %v", cfg, err)
	}
}

func TestLoadRefusesMistakes(t *testing.T) {
	for name, c := range map[string]struct{ path, env, want string }{
		"unknown key":   {writeFile(t, "nmae: x\n"), "", "nmae"},
		"missing file":  {filepath.Join(t.TempDir(), "none.yml"), "", "reading config"},
		"bad env value": {"", "T_EVERY=soon", "T_EVERY"},
	} {
		cfg := sample{Name: "default"}
		err := Load(&cfg, c.path, "T", []string{c.env})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %s", name, err, c.want)
		}
	}
}
