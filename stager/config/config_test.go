package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/internal/envconfig/envconfigtest"
)

func TestLoadFileAndEnv(t *testing.T) {
	p := filepath.Join(t.TempDir(), "stager.yml")
	yml := "registry:\n  url: https://oyster.example\ncache: /scratch/oyster\nformats: [squashfs]\nquota:\n  max_bytes: 1000\n"
	if err := os.WriteFile(p, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p, []string{"OYSTER_STAGER_FORMATS=sif, rootfs", "OYSTER_STAGER_POLL_INTERVAL=5s", "OYSTER_STAGER_REGISTRY_INSECURE=true", "OYSTER_ADDR=ignored"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Registry.URL != "https://oyster.example" || cfg.Cache != "/scratch/oyster" || cfg.Quota.MaxBytes != 1000 ||
		!reflect.DeepEqual(cfg.Formats, []string{"sif", "rootfs"}) || cfg.PollInterval != 5*time.Second || !cfg.Registry.Insecure ||
		cfg.Quota.HighPercent != 90 {
		t.Errorf("loaded %+v", cfg)
	}
}

func TestLoadRefusesMistakes(t *testing.T) {
	for env, want := range map[string]string{
		"OYSTER_STAGER_FORMATS=docker":         "formats",
		"OYSTER_STAGER_QUOTA_LOW_PERCENT=95":   "watermarks",
		"OYSTER_STAGER_CONCURRENCY=0":          "concurrency",
		"OYSTER_STAGER_POLL_INTERVAL=soon":     "OYSTER_STAGER_POLL_INTERVAL",
		"OYSTER_STAGER_QUOTA_MAX_BYTES=-1":     "negative",
		"OYSTER_STAGER_QUOTA_HIGH_PERCENT=101": "watermarks",
	} {
		if _, err := Load("", []string{env}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error about %s", env, err, want)
		}
	}
	p := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(p, []byte("regsitry: {}\n"), 0o644)
	if _, err := Load(p, nil); err == nil || !strings.Contains(err.Error(), "regsitry") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestEnvKeys(t *testing.T) {
	keys := strings.Join(EnvKeys(), " ")
	for _, k := range []string{"OYSTER_STAGER_REGISTRY_URL", "OYSTER_STAGER_CACHE", "OYSTER_STAGER_QUOTA_HIGH_PERCENT", "OYSTER_STAGER_PINS"} {
		if !strings.Contains(keys, k) {
			t.Errorf("EnvKeys lacks %s: %s", k, keys)
		}
	}
}

func TestExampleFileDocumentsEveryKey(t *testing.T) {
	cfg, err := Load("../../stager.example.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Node, _ = os.Hostname()
	want.Pins = []string{}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("stager.example.yml does not show the defaults:\n%+v\n%+v", cfg, want)
	}
	envconfigtest.RequireDocumented(t, "../../stager.example.yml", EnvPrefix, EnvKeys())
}
