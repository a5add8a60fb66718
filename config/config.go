// Package config holds Oyster's configuration: one YAML file whose every key
// can be overridden by an environment variable named OYSTER_<PATH>, where PATH
// is the key's YAML path in upper case joined by underscores
// (storage.s3.bucket → OYSTER_STORAGE_S3_BUCKET).
package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/oyster-registry/oyster/auth"
	"github.com/oyster-registry/oyster/internal/envconfig"
	"github.com/oyster-registry/oyster/oci"
)

// EnvPrefix starts the name of every environment override.
const EnvPrefix = "OYSTER"

// Config is the whole configuration of the registry process.
type Config struct {
	// Addr is the address the HTTP server listens on.
	Addr string `yaml:"addr"`
	// Data is the directory for everything Oyster keeps on local disk.
	Data string `yaml:"data"`
	// ExternalURL is how clients reach the registry, used in Link headers
	// and pull commands; empty means "derive from the request".
	ExternalURL string  `yaml:"external_url"`
	Log         Log     `yaml:"log"`
	Storage     Storage `yaml:"storage"`
	// HTTPSecret signs upload state; empty means a random secret kept in
	// <data>/http-secret so uploads survive restarts.
	HTTPSecret string `yaml:"http_secret"`
	// ShutdownTimeout bounds how long in-flight requests may finish on stop.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	Catalog         Catalog       `yaml:"catalog"`
	Hub             Hub           `yaml:"hub"`
	// Sources are the Git repositories whose recipes Oyster builds.
	Sources []Source `yaml:"sources"`
	GitSync GitSync  `yaml:"gitsync"`
	Stage   Stage    `yaml:"stage"`
	Auth    Auth     `yaml:"auth"`
	Debug   Debug    `yaml:"debug"`
}

// Debug configures diagnostics that are off unless asked for.
type Debug struct {
	// PprofAddr, if set, serves Go's profiler (net/http/pprof) on its own
	// listener at this address, apart from the registry's; empty: off.
	// It has no authentication: bind it to localhost.
	PprofAddr string `yaml:"pprof_addr"`
}

// Auth configures identity: off unless htpasswd.path or oidc.issuer is set.
type Auth struct {
	Htpasswd Htpasswd `yaml:"htpasswd"`
	// Admins are the htpasswd users who are site admins.
	Admins []string `yaml:"admins"`
	// Service names this registry in tokens and challenges.
	Service string `yaml:"service"`
	// TokenTTL is how long a registry token issued at /auth/token lives.
	TokenTTL time.Duration `yaml:"token_ttl"`
	// KeyRotation is how long one signing key (kept in <data>/auth/keys)
	// signs before a new one does; old keys verify until their tokens expire.
	KeyRotation time.Duration `yaml:"key_rotation"`
	// PrivateNamespaces only their owners and admins may pull from; "*"
	// makes every namespace private. The rest anyone may pull.
	PrivateNamespaces []string `yaml:"private_namespaces"`
	// Namespaces give group namespaces their members and roles (read,
	// write, admin) and set visibility per namespace and per repository.
	Namespaces map[string]auth.NamespaceRules `yaml:"namespaces"`
	// MaxFailedLogins from one address within FailedLoginWindow block it
	// until the window ends.
	MaxFailedLogins   int           `yaml:"max_failed_logins"`
	FailedLoginWindow time.Duration `yaml:"failed_login_window"`
	OIDC              OIDC          `yaml:"oidc"`
	Sessions          Sessions      `yaml:"sessions"`
	Robots            Robots        `yaml:"robots"`
}

// Sessions bound the web UI's logins. They live in the registry's memory:
// a restart logs every browser out.
type Sessions struct {
	// Max sessions are kept; a login beyond it ends the one idle longest.
	Max int `yaml:"max"`
	// IdleTimeout ends a session unused this long; Lifetime ends any
	// session this long after its login.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	Lifetime    time.Duration `yaml:"lifetime"`
}

// Robots bound the robot tokens users make for themselves in the web UI
// and the API (`registry token` is not bound).
type Robots struct {
	// PerOwner is how many live robot tokens one user may have.
	PerOwner int `yaml:"per_owner"`
	// MaxLifetime caps a token's expiry.
	MaxLifetime time.Duration `yaml:"max_lifetime"`
}

// SessionOptions and RobotLimits are the bounds as auth takes them.
func (a Auth) SessionOptions() auth.SessionOptions {
	return auth.SessionOptions{Max: a.Sessions.Max, Idle: a.Sessions.IdleTimeout, Lifetime: a.Sessions.Lifetime}
}

func (a Auth) RobotLimits() auth.RobotLimits {
	return auth.RobotLimits{PerOwner: a.Robots.PerOwner, MaxLifetime: a.Robots.MaxLifetime}
}

// Htpasswd names the file of users (bcrypt entries, htpasswd -B).
type Htpasswd struct {
	Path string `yaml:"path"`
}

// OIDC accepts an OpenID Connect provider's access tokens as passwords:
// on when Issuer is set.
type OIDC struct {
	Issuer string `yaml:"issuer"`
	// Audience is accepted in a token's aud; Scope, if set, in its scope
	// instead. One of them must be set.
	Audience string `yaml:"audience"`
	Scope    string `yaml:"scope"`
	Claims   Claims `yaml:"claims"`
	// UsernameDomain: "replace" (alice@uchicago.edu → alice-uchicago.edu)
	// or "strip" (→ alice).
	UsernameDomain string `yaml:"username_domain"`
	// GroupsURL, if set, lists the user's groups (GET with the token);
	// GroupsField is the field of its objects that names a group.
	GroupsURL     string        `yaml:"groups_url"`
	GroupsField   string        `yaml:"groups_field"`
	Introspection Introspection `yaml:"introspection"`
	// ClientID and ClientSecret, if set, let the web UI log users in
	// through the provider (authorization code flow with PKCE); the
	// redirect URI to register is <external_url>/login/callback (without
	// external_url, the origin browsers reach the registry at).
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// CacheTTL bounds how long a checked token is trusted without asking
	// again; CacheSize how many are remembered.
	CacheTTL  time.Duration `yaml:"cache_ttl"`
	CacheSize int           `yaml:"cache_size"`
	// DiscoveryTimeout bounds the retries of discovery at start-up.
	DiscoveryTimeout time.Duration `yaml:"discovery_timeout"`
	// Admins are the OIDC users (mapped usernames) who are site admins;
	// auth.admins names htpasswd users only.
	Admins []string `yaml:"admins"`
}

// Introspection checks opaque tokens (RFC 7662); URL empty: the one
// discovery names.
type Introspection struct {
	URL          string `yaml:"url"`
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
}

// Claims name the OIDC claims holding the username and the groups.
type Claims struct {
	Username string `yaml:"username"`
	Groups   string `yaml:"groups"`
}

// Enabled reports whether registry access is checked at all.
func (a Auth) Enabled() bool { return a.Htpasswd.Path != "" || a.OIDC.Issuer != "" }

// Policy is who may do what, as the token service decides it.
func (a Auth) Policy() auth.Policy {
	return auth.Policy{Private: a.PrivateNamespaces, Namespaces: a.Namespaces}
}

func (a Auth) validate() error {
	if err := a.OIDC.validate(); err != nil {
		return err
	}
	if a.Service == "" || a.TokenTTL <= 0 || a.KeyRotation <= 0 || a.MaxFailedLogins < 1 || a.FailedLoginWindow <= 0 {
		return errors.New("config: auth.service, token_ttl, key_rotation, max_failed_logins and failed_login_window must be set and positive")
	}
	if a.Sessions.Max < 1 || a.Sessions.IdleTimeout <= 0 || a.Sessions.Lifetime <= 0 || a.Robots.PerOwner < 1 || a.Robots.MaxLifetime <= 0 {
		return errors.New("config: auth.sessions (max, idle_timeout, lifetime) and auth.robots (per_owner, max_lifetime) must be set and positive")
	}
	if a.KeyRotation < a.TokenTTL {
		return errors.New("config: auth.key_rotation must not be shorter than auth.token_ttl")
	}
	if err := a.Policy().Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

func (o OIDC) validate() error {
	if o.Issuer == "" {
		return nil
	}
	if u, err := url.Parse(o.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("config: auth.oidc.issuer %q is not an http(s) URL", o.Issuer)
	}
	if o.Audience == "" && o.Scope == "" {
		return errors.New("config: auth.oidc needs audience or scope, or tokens issued to any client of the provider would be accepted")
	}
	if o.UsernameDomain != "replace" && o.UsernameDomain != "strip" {
		return fmt.Errorf("config: auth.oidc.username_domain %q is not one of replace, strip", o.UsernameDomain)
	}
	if o.Claims.Username == "" || o.CacheSize < 1 || o.CacheTTL <= 0 || o.DiscoveryTimeout <= 0 {
		return errors.New("config: auth.oidc.claims.username, cache_size, cache_ttl and discovery_timeout must be set and positive")
	}
	return nil
}

// Source is one Git repository of recipes.
type Source struct {
	// Name identifies the source in the API and starts the names of the
	// repositories its recipes derive.
	Name string `yaml:"name"`
	// URL is https://…, ssh://… (or user@host:path), or a local path when
	// gitsync.allow_local is true.
	URL string `yaml:"url"`
	// Branch is the branch built; "latest" follows it. Default main.
	Branch string `yaml:"branch"`
	// WebhookSecret signs (GitHub, Gitea, generic) or is (GitLab) the
	// webhook; empty refuses webhooks for the source.
	WebhookSecret string `yaml:"webhook_secret"`
	// PollInterval, if set, fetches the branch that often: the fallback
	// where webhooks cannot reach the registry.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Token authenticates https URLs; SSHKey is a private key file for ssh.
	Token  string `yaml:"token"`
	SSHKey string `yaml:"ssh_key"`
	// Builder picks a builder for Dockerfiles (buildah or docker); empty
	// is gitsync.builder.
	Builder string `yaml:"builder"`
}

// GitSync configures tracking sources and building their recipes.
type GitSync struct {
	// AllowLocal lets a source's url be a local path.
	AllowLocal bool `yaml:"allow_local"`
	// Concurrency is how many builds run at once.
	Concurrency int `yaml:"concurrency"`
	// BuildTimeout kills a build that runs longer.
	BuildTimeout time.Duration `yaml:"build_timeout"`
	// Retries is how often a build failed by the infrastructure (not by
	// its recipe) is tried again.
	Retries int `yaml:"retries"`
	// Registry is the host[:port] builders push to; empty: the address
	// the registry listens on.
	Registry string `yaml:"registry"`
	// Builder is the default Dockerfile builder: buildah, docker, or
	// empty for the first that works on this machine.
	Builder string `yaml:"builder"`
	// StorageDriver is buildah's: vfs works everywhere; overlay is much
	// faster where the kernel mounts overlayfs on the data directory.
	StorageDriver string `yaml:"storage_driver"`
}

// Stage configures the staging lists the stagers of compute nodes follow
// (GET /api/v1/stage?cluster=…).
type Stage struct {
	// Pins are repository:tag or repository@digest references every
	// cluster stages and never evicts (more are pinned through the API).
	Pins []string `yaml:"pins"`
	// Query selects, in the catalog query language, images every cluster
	// stages; empty selects none.
	Query string `yaml:"query"`
	// HubWindow is how long an image a hub user selected stays listed.
	HubWindow time.Duration `yaml:"hub_window"`
}

// Catalog configures indexing of what is inside images.
type Catalog struct {
	// Enabled turns the catalog (indexing, search, UI) on.
	Enabled bool `yaml:"enabled"`
	// MaxLayerBytes caps the decompressed bytes read from one layer; a
	// layer over it is indexed up to there and marked in index_errors.
	MaxLayerBytes int64 `yaml:"max_layer_bytes"`
	// MaxFileBytes caps one file read from a layer (a package database).
	MaxFileBytes int64 `yaml:"max_file_bytes"`
	// Workers is how many manifests are indexed at once: a slow image holds
	// up one worker, not the catalog.
	Workers int `yaml:"workers"`
	// Budget bounds what the catalog keeps and does for one image.
	Budget Budget `yaml:"budget"`
}

// Budget has the fields of catalog.Budget, which the server converts it
// to (a conversion that stops compiling if the two part ways); see there
// for what each bounds. Zero takes the catalog's default, which
// config.example.yml gives for each key (a test checks it), so that the
// defaults live in one place.
type Budget struct {
	MaxProblemsPerFile int           `yaml:"max_problems_per_file"`
	MaxProblems        int           `yaml:"max_problems"`
	MaxPackages        int           `yaml:"max_packages"`
	MaxPaths           int           `yaml:"max_paths"`
	MaxIndexChildren   int           `yaml:"max_index_children"`
	MaxSBOMLayers      int           `yaml:"max_sbom_layers"`
	MaxSBOMBytes       int64         `yaml:"max_sbom_bytes"`
	MaxRecordBytes     int64         `yaml:"max_record_bytes"`
	Deadline           time.Duration `yaml:"deadline"`
	MaxAttempts        int           `yaml:"max_attempts"`
}

// validate refuses negative limits, which would otherwise silently mean
// the default.
func (b Budget) validate() error {
	v := reflect.ValueOf(b)
	for i := range v.NumField() {
		if n := v.Field(i).Int(); n < 0 {
			key, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
			return fmt.Errorf("config: catalog.budget.%s is %d; it must be positive, or 0 for the default", key, n)
		}
	}
	return nil
}

// Hub configures the JupyterHub image-selection endpoints.
type Hub struct {
	// Query selects the images a hub offers, in the catalog query language.
	Query string `yaml:"query"`
	// RegistryHost is the host[:port] hubs pull from, used in the pinned
	// image references they receive; empty means the request's host.
	RegistryHost string `yaml:"registry_host"`
}

// Log configures structured logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Storage selects and configures the storage driver.
type Storage struct {
	Driver     string     `yaml:"driver"` // filesystem or s3
	Filesystem Filesystem `yaml:"filesystem"`
	S3         S3         `yaml:"s3"`
	// Delete allows deleting manifests and blobs through the API.
	Delete bool `yaml:"delete"`
	// StrictReferences rejects manifests that reference blobs or manifests
	// the repository does not have (400 MANIFEST_BLOB_UNKNOWN). Off, such
	// sparse manifests are stored, as the distribution-spec permits.
	// Non-distributable layers are accepted either way.
	StrictReferences bool `yaml:"strict_references"`
	// ManifestCacheBytes bounds the in-memory cache of tag -> digest and
	// digest -> manifest in front of storage; 0 turns it off. The cache
	// is per process: correct only while one process writes the storage.
	ManifestCacheBytes int64 `yaml:"manifest_cache_bytes"`
}

// Filesystem configures the filesystem driver.
type Filesystem struct {
	// RootDirectory defaults to <data>/registry.
	RootDirectory string `yaml:"rootdirectory"`
	// DirectBlobReads serves blob GET/HEAD from the data files themselves,
	// which lets the kernel copy them to the socket.
	DirectBlobReads bool `yaml:"direct_blob_reads"`
	// DirectUploads receives blob upload chunks (PATCH) straight into the
	// upload's data file, hashing as it writes, in distribution's layout;
	// distribution still starts and commits every upload.
	DirectUploads bool `yaml:"direct_uploads"`
}

// S3 configures the S3-compatible object storage driver.
type S3 struct {
	Region         string `yaml:"region"`
	Bucket         string `yaml:"bucket"`
	Endpoint       string `yaml:"endpoint"`
	AccessKey      string `yaml:"accesskey"`
	SecretKey      string `yaml:"secretkey"`
	ForcePathStyle bool   `yaml:"forcepathstyle"`
	Secure         bool   `yaml:"secure"`
	RootDirectory  string `yaml:"rootdirectory"`
	ChunkSize      int    `yaml:"chunksize"`
}

// Default is the embedded configuration: filesystem storage under ./data,
// deletes enabled, nothing else needed.
func Default() Config {
	return Config{
		Addr:            "localhost:5000",
		Data:            "./data",
		Log:             Log{Level: "info", Format: "text"},
		Storage:         Storage{Driver: "filesystem", Delete: true, ManifestCacheBytes: 64 << 20, Filesystem: Filesystem{DirectBlobReads: true, DirectUploads: true}, S3: S3{Region: "us-east-1", Secure: true}},
		ShutdownTimeout: 10 * time.Second,
		Catalog:         Catalog{Enabled: true, MaxLayerBytes: oci.DefaultMaxLayerBytes, MaxFileBytes: oci.DefaultMaxFileBytes, Workers: 1},
		Hub:             Hub{Query: "label:org.oyster.hub=true"},
		Sources:         []Source{},
		GitSync:         GitSync{Concurrency: 1, BuildTimeout: time.Hour, Retries: 2, StorageDriver: "vfs"},
		Stage:           Stage{HubWindow: 7 * 24 * time.Hour},
		Auth: Auth{
			Admins: []string{"admin"}, Service: "oyster", TokenTTL: 5 * time.Minute, KeyRotation: 30 * 24 * time.Hour,
			PrivateNamespaces: []string{}, Namespaces: map[string]auth.NamespaceRules{}, MaxFailedLogins: 10, FailedLoginWindow: time.Minute,
			OIDC: OIDC{
				Claims: Claims{Username: "preferred_username", Groups: "groups"}, UsernameDomain: "replace", GroupsField: "id",
				CacheTTL: 5 * time.Minute, CacheSize: 10000, DiscoveryTimeout: 30 * time.Second,
				Admins: []string{},
			},
			Sessions: Sessions{Max: 10000, IdleTimeout: 2 * time.Hour, Lifetime: 24 * time.Hour},
			Robots:   Robots{PerOwner: 100, MaxLifetime: 365 * 24 * time.Hour},
		},
	}
}

// Load reads the YAML file at path (if path is not empty) over the defaults,
// then applies environment overrides from environ, then validates.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	if err := envconfig.Load(&cfg, path, EnvPrefix, environ); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// Validate reports the first configuration mistake, in words a user can act on.
func (c *Config) Validate() error {
	if c.Addr == "" {
		return errors.New("config: addr must not be empty")
	}
	if c.Data == "" {
		return errors.New("config: data must not be empty")
	}
	if c.Catalog.Workers < 1 {
		return fmt.Errorf("config: catalog.workers is %d; it must be at least 1", c.Catalog.Workers)
	}
	if err := c.Catalog.Budget.validate(); err != nil {
		return err
	}
	if c.Storage.ManifestCacheBytes < 0 {
		return fmt.Errorf("config: storage.manifest_cache_bytes is %d; it must be 0 (off) or more", c.Storage.ManifestCacheBytes)
	}
	switch c.Storage.Driver {
	case "filesystem":
	case "s3":
		if c.Storage.S3.Bucket == "" {
			return errors.New("config: storage.s3.bucket is required with the s3 driver")
		}
	default:
		return fmt.Errorf("config: storage.driver %q is not one of filesystem, s3", c.Storage.Driver)
	}
	if h := c.Hub.RegistryHost; h != "" && (strings.ContainsAny(h, "/ @") || strings.Contains(h, "://")) {
		return fmt.Errorf("config: hub.registry_host %q must be host[:port], without scheme or path", h)
	}
	if err := c.validateSources(); err != nil {
		return err
	}
	if err := c.Auth.validate(); err != nil {
		return err
	}
	if o := c.Auth.OIDC; o.ClientID != "" && (o.Issuer == "" || o.ClientSecret == "") {
		return errors.New("config: auth.oidc.client_id (web UI logins through the provider) needs auth.oidc.issuer and auth.oidc.client_secret")
	}
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log.level %q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("config: log.format %q is not one of text, json", c.Log.Format)
	}
	return nil
}

func (c *Config) validateSources() error {
	if c.GitSync.Concurrency < 1 {
		return fmt.Errorf("config: gitsync.concurrency is %d; it must be at least 1", c.GitSync.Concurrency)
	}
	if c.GitSync.BuildTimeout <= 0 {
		return errors.New("config: gitsync.build_timeout must be positive")
	}
	if d := c.GitSync.StorageDriver; d != "vfs" && d != "overlay" {
		return fmt.Errorf("config: gitsync.storage_driver %q is not one of vfs, overlay", d)
	}
	if c.GitSync.Retries < 0 {
		return errors.New("config: gitsync.retries must not be negative")
	}
	seen := map[string]bool{}
	for i, s := range c.Sources {
		if s.Name == "" || s.URL == "" {
			return fmt.Errorf("config: sources[%d] needs a name and a url", i)
		}
		if seen[s.Name] {
			return fmt.Errorf("config: two sources are named %q", s.Name)
		}
		seen[s.Name] = true
		if s.PollInterval < 0 {
			return fmt.Errorf("config: source %s: poll_interval must not be negative", s.Name)
		}
	}
	return nil
}

// FilesystemRoot is where the filesystem driver keeps blobs and manifests.
func (c *Config) FilesystemRoot() string {
	if c.Storage.Filesystem.RootDirectory != "" {
		return c.Storage.Filesystem.RootDirectory
	}
	return filepath.Join(c.Data, "registry")
}

// EnvKeys lists every environment variable the configuration understands,
// for documentation and tests.
func EnvKeys() []string { return envconfig.Keys(&Config{}, EnvPrefix) }
