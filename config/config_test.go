package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/auth"
	"github.com/oyster-registry/oyster/internal/envconfig/envconfigtest"
)

func TestExampleFileDocumentsEveryKeyWithDefaults(t *testing.T) {
	cfg, err := Load("../config.example.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Fatalf("config.example.yml does not show the defaults:\n%+v\n%+v", cfg, Default())
	}
	envconfigtest.RequireDocumented(t, "../config.example.yml", EnvPrefix, EnvKeys())
}

func TestEnvOverridesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yml")
	os.WriteFile(path, []byte("addr: 0.0.0.0:6000\nstorage:\n  driver: s3\n  s3:\n    bucket: from-file\n"), 0o644)
	cfg, err := Load(path, []string{
		"OYSTER_STORAGE_S3_BUCKET=from-env", "OYSTER_STORAGE_S3_FORCEPATHSTYLE=true",
		"OYSTER_SHUTDOWN_TIMEOUT=3s", "OYSTER_STORAGE_STRICT_REFERENCES=true", "UNRELATED=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "0.0.0.0:6000" || cfg.Storage.S3.Bucket != "from-env" || !cfg.Storage.S3.ForcePathStyle ||
		cfg.ShutdownTimeout != 3*time.Second || !cfg.Storage.StrictReferences {
		t.Fatalf("overrides not applied: %+v", cfg)
	}
}

func TestBadConfigIsRejectedClearly(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct {
		file string
		env  []string
		want string
	}{
		"unknown key":       {"adr: x\n", nil, "field adr not found"},
		"bad driver":        {"storage:\n  driver: floppy\n", nil, `storage.driver "floppy"`},
		"s3 without bucket": {"storage:\n  driver: s3\n", nil, "storage.s3.bucket is required"},
		"bad bool env":      {"", []string{"OYSTER_STORAGE_DELETE=perhaps"}, "OYSTER_STORAGE_DELETE"},
		"bad level":         {"log:\n  level: loud\n", nil, "log.level"},
		"no workers":        {"catalog:\n  workers: 0\n", nil, "catalog.workers is 0"},
	}
	for name, c := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yml")
		os.WriteFile(path, []byte(c.file), 0o644)
		_, err := Load(path, c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want error mentioning %q", name, err, c.want)
		}
	}
}

func TestSourcesFromFileAndEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yml")
	os.WriteFile(path, []byte("sources:\n  - name: lab\n    url: https://example.org/lab/envs.git\n    webhook_secret: s\n    poll_interval: 5m\ngitsync:\n  allow_local: true\n"), 0o644)
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) != 1 || cfg.Sources[0].Name != "lab" || cfg.Sources[0].PollInterval != 5*time.Minute || !cfg.GitSync.AllowLocal {
		t.Errorf("from the file: %+v %+v", cfg.Sources, cfg.GitSync)
	}
	cfg, err = Load(path, []string{"OYSTER_SOURCES=[{name: a, url: /srv/a.git, branch: dev}, {name: b, url: 'https://h/b'}]", "OYSTER_GITSYNC_CONCURRENCY=3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) != 2 || cfg.Sources[0].Branch != "dev" || cfg.Sources[1].URL != "https://h/b" || cfg.GitSync.Concurrency != 3 {
		t.Errorf("from the environment: %+v %+v", cfg.Sources, cfg.GitSync)
	}
}

func TestBadSourcesAreRefused(t *testing.T) {
	for name, env := range map[string]string{
		"no url":        "OYSTER_SOURCES=[{name: a}]",
		"no name":       "OYSTER_SOURCES=[{url: https://h/a}]",
		"twice":         "OYSTER_SOURCES=[{name: a, url: https://h/a}, {name: a, url: https://h/b}]",
		"unknown key":   "OYSTER_SOURCES=[{name: a, url: https://h/a, secret: x}]",
		"concurrency 0": "OYSTER_GITSYNC_CONCURRENCY=0",
	} {
		if _, err := Load("", []string{env}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestAuthSwitch: auth is off by default, one key (or its environment
// variable) turns it on, and a wrong OIDC configuration is refused with a
// message naming the key.
func TestAuthSwitch(t *testing.T) {
	if Default().Auth.Enabled() {
		t.Fatal("auth is on by default")
	}
	cfg, err := Load("", []string{"OYSTER_AUTH_HTPASSWD_PATH=/etc/oyster/htpasswd"})
	if err != nil || !cfg.Auth.Enabled() || cfg.Auth.Admins[0] != "admin" {
		t.Fatalf("htpasswd path from the environment: %v %+v", err, cfg.Auth)
	}
	for env, want := range map[string]string{
		"OYSTER_AUTH_OIDC_ISSUER=https://auth.globus.org": "needs audience or scope",
		"OYSTER_AUTH_OIDC_ISSUER=auth.globus.org":         "not an http(s) URL",
		"OYSTER_AUTH_TOKEN_TTL=0s":                        "must be set and positive",
		"OYSTER_AUTH_KEY_ROTATION=1m":                     "key_rotation must not be shorter",
	} {
		if _, err := Load("", []string{env}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", env, err, want)
		}
	}
	oidc := []string{"OYSTER_AUTH_OIDC_ISSUER=https://auth.globus.org", "OYSTER_AUTH_OIDC_SCOPE=urn:globus:auth:scope:reg:all"}
	if cfg, err := Load("", oidc); err != nil || !cfg.Auth.Enabled() {
		t.Errorf("OIDC alone turns auth on: %v", err)
	}
	if _, err := Load("", append(oidc, "OYSTER_AUTH_OIDC_USERNAME_DOMAIN=keep")); err == nil || !strings.Contains(err.Error(), "username_domain") {
		t.Errorf("username_domain keep: %v", err)
	}
	login := append(oidc, "OYSTER_AUTH_OIDC_CLIENT_ID=oyster-web")
	if _, err := Load("", login); err == nil || !strings.Contains(err.Error(), "client_secret") {
		t.Errorf("an OIDC login client without its secret: %v", err)
	}
	if _, err := Load("", append(login, "OYSTER_AUTH_OIDC_CLIENT_SECRET=s")); err != nil {
		t.Errorf("an OIDC login client with its secret: %v", err)
	}
	// Every listing filters by what the caller may pull, so private
	// namespaces and the catalog go together.
	private := []string{"OYSTER_AUTH_HTPASSWD_PATH=/etc/oyster/htpasswd", "OYSTER_AUTH_PRIVATE_NAMESPACES=lab"}
	if cfg, err := Load("", private); err != nil || !cfg.Catalog.Enabled || cfg.Auth.Policy().Allowed(auth.Identity{}, auth.Access{Type: "repository", Name: "lab/x", Action: auth.ActionPull}) {
		t.Errorf("private namespaces with the catalog on: %v", err)
	}
}

// TestAuthNamespaces: group namespaces come from the file or the
// environment; an unknown role is refused at start-up, naming the key.
func TestAuthNamespaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yml")
	os.WriteFile(path, []byte("catalog:\n  enabled: false\nauth:\n  htpasswd:\n    path: /h\n  namespaces:\n    lab:\n      private: true\n      groups: {lab-members: write}\n      public_repositories: [lab/tutorial]\n"), 0o644)
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	lab := cfg.Auth.Namespaces["lab"]
	if !lab.Private || lab.Groups["lab-members"] != auth.RoleWrite || !cfg.Auth.Policy().Allowed(auth.Identity{Groups: []string{"lab-members"}, Name: "m"}, auth.Access{Type: "repository", Name: "lab/x", Action: auth.ActionPush}) {
		t.Errorf("from the file: %+v", cfg.Auth.Namespaces)
	}
	cfg, err = Load(path, []string{"OYSTER_AUTH_NAMESPACES={open: {users: {carol: admin}}}"})
	if _, kept := cfg.Auth.Namespaces["lab"]; err != nil || kept || cfg.Auth.Namespaces["open"].Users["carol"] != auth.RoleAdmin {
		t.Errorf("from the environment: %+v %v", cfg.Auth.Namespaces, err)
	}
	for env, want := range map[string]string{
		"OYSTER_AUTH_NAMESPACES={lab: {groups: {g: owner}}}":             `role "owner" is not one of read, write, admin`,
		"OYSTER_AUTH_NAMESPACES={lab: {public_repositories: [other/x]}}": "not in namespace lab",
		"OYSTER_AUTH_NAMESPACES={lab: {privat: true}}":                   "privat",
	} {
		env := []string{"OYSTER_AUTH_HTPASSWD_PATH=/h", env}
		if _, err := Load("", env); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", env[1], err, want)
		}
	}
}
