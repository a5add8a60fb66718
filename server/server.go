// Package server wires Oyster's registry process: distribution's App on
// /v2/ with Oyster's repository middleware, the referrers API beside it,
// health, metrics and the HTTP server's lifecycle.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/distribution/distribution/v3"
	dconfig "github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/distribution/distribution/v3/registry/storage"
	"github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/factory"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem" // registers the filesystem driver
	_ "github.com/distribution/distribution/v3/registry/storage/driver/s3-aws"     // registers the s3 driver

	"github.com/oyster-registry/oyster/auth"
	"github.com/oyster-registry/oyster/config"
	"github.com/oyster-registry/oyster/events"
	"github.com/oyster-registry/oyster/gitsync"
	"github.com/oyster-registry/oyster/library"
	"github.com/oyster-registry/oyster/referrers"
)

// registryCatalogMaxEntries is the largest page /v2/_catalog serves.
const registryCatalogMaxEntries = 1000

// Server is one registry process's worth of wiring.
type Server struct {
	cfg       config.Config
	log       *slog.Logger
	app       *handlers.App
	driver    driver.StorageDriver
	namespace distribution.Namespace
	source    *storageSource
	referrers *referrers.Store
	catalog   *catalogParts    // nil when the catalog is disabled
	builds    *gitsync.Service // nil without sources
	bound     string           // the address ListenAndServe listens on
	library   *library.Library
	auth      *auth.Service // nil when auth is off
	// catalogTokens are who the realm's catalog tokens were issued to
	// (catalogtokens.go), for /v2/_catalog to list what each may pull.
	catalogTokens *tokenIdentities
	manifests     *manifestCache // nil when off
	blobRoot      string         // the filesystem driver's root when blobs are served from files (blobserve.go), or ""
	// uploadRoot is the filesystem driver's root when upload chunks are
	// written by Oyster (uploadfront.go), or "".
	uploadRoot string
	handler    http.Handler
}

// Options are the parts of a Server its caller may supply.
type Options struct {
	Logger *slog.Logger
	// Listener receives every manifest and tag event (the catalog, later).
	Listener events.Listener
}

// New builds a Server from cfg: opens the referrers index (rebuilding it from
// storage if missing, repairing it after a crash) and creates distribution's
// App over the configured storage driver.
func New(ctx context.Context, cfg config.Config, opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	bridgeLogrus(log, cfg.Log.Level)
	if err := os.MkdirAll(cfg.Data, 0o755); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	secret, err := httpSecret(cfg)
	if err != nil {
		return nil, err
	}
	driverName, params := storageParameters(cfg)
	drv, err := factory.Create(ctx, driverName, params)
	if err != nil {
		return nil, fmt.Errorf("creating %s storage driver: %w", driverName, err)
	}
	ns, err := storage.NewRegistry(ctx, drv, storage.EnableDelete)
	if err != nil {
		return nil, err
	}
	refs, err := referrers.Open(filepath.Join(cfg.Data, "referrers.db"))
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, driver: drv, namespace: ns, referrers: refs, source: &storageSource{ns: ns, driver: drv, referrers: refs}}
	if err := s.repairReferrers(ctx); err != nil {
		s.closeStores()
		return nil, err
	}
	listener := events.Fanout{events.Logger(log), countEvents}
	if opts.Listener != nil {
		listener = append(listener, opts.Listener)
	}
	if cfg.Catalog.Enabled {
		if s.catalog, err = openCatalog(s); err != nil {
			refs.Close()
			return nil, err
		}
		listener = append(listener, s.catalog.indexer)
	}
	if s.builds, err = openGitSync(s); err != nil {
		s.closeStores()
		return nil, err
	}
	if s.auth, err = s.openAuth(); err != nil {
		s.closeStores()
		return nil, err
	}
	s.catalogTokens = newTokenIdentities(cfg.Auth.TokenTTL)
	s.manifests = newManifestCache(cfg.Storage.ManifestCacheBytes)
	if cfg.Storage.Driver == "filesystem" && cfg.Storage.Filesystem.DirectBlobReads {
		s.blobRoot = cfg.FilesystemRoot()
	}
	if cfg.Storage.Driver == "filesystem" && cfg.Storage.Filesystem.DirectUploads {
		s.uploadRoot = cfg.FilesystemRoot()
	}
	dc := distributionConfig(cfg, secret, driverName, params, &hooks{referrers: refs, listener: listener, strictReferences: cfg.Storage.StrictReferences, manifests: s.manifests})
	if s.auth != nil {
		dc.Auth = authConfig(s.auth)
	}
	s.app, err = newApp(ctx, dc)
	if err != nil {
		s.closeStores()
		return nil, err
	}
	if s.library, err = s.openLibrary(); err != nil {
		s.closeStores()
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// newApp turns distribution's panics on bad configuration into errors.
func newApp(ctx context.Context, dc *dconfig.Configuration) (app *handlers.App, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("configuring registry: %v", r)
		}
	}()
	return handlers.NewApp(ctx, dc), nil
}

// Handler is the whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.handler }

// Close releases the indexes and stops distribution's background work.
func (s *Server) Close() error {
	return errors.Join(s.app.Shutdown(), s.closeStores())
}

func (s *Server) closeStores() error {
	err := s.referrers.Close()
	if s.catalog != nil {
		err = errors.Join(err, s.catalog.close())
	}
	if s.builds != nil {
		err = errors.Join(err, s.builds.Close())
	}
	return err
}

func storageParameters(cfg config.Config) (string, map[string]any) {
	switch cfg.Storage.Driver {
	case "s3":
		s3 := cfg.Storage.S3
		p := map[string]any{
			"region": s3.Region, "bucket": s3.Bucket, "forcepathstyle": s3.ForcePathStyle,
			"secure": s3.Secure, "rootdirectory": s3.RootDirectory,
		}
		if s3.Endpoint != "" {
			p["regionendpoint"] = s3.Endpoint
		}
		if s3.AccessKey != "" {
			p["accesskey"], p["secretkey"] = s3.AccessKey, s3.SecretKey
		}
		if s3.ChunkSize > 0 {
			p["chunksize"] = s3.ChunkSize
		}
		return "s3aws", p
	default:
		return "filesystem", map[string]any{"rootdirectory": cfg.FilesystemRoot()}
	}
}

func distributionConfig(cfg config.Config, secret, driverName string, params map[string]any, h *hooks) *dconfig.Configuration {
	dc := &dconfig.Configuration{}
	dc.Storage = dconfig.Storage{
		driverName: dconfig.Parameters(params),
		"delete":   dconfig.Parameters{"enabled": cfg.Storage.Delete},
		"redirect": dconfig.Parameters{"disable": true},
		"cache":    dconfig.Parameters{"blobdescriptor": "inmemory"},
	}
	dc.HTTP.Secret = secret
	dc.HTTP.Host = strings.TrimSuffix(cfg.ExternalURL, "/")
	dc.HTTP.Debug.Prometheus.Enabled = claimDistributionMetrics()
	dc.Catalog.MaxEntries = registryCatalogMaxEntries
	// Foreign layers may point anywhere over http(s).
	dc.Validation.Manifests.URLs.Allow = []string{`^https?://`}
	dc.Middleware = map[string][]dconfig.Middleware{
		"repository": {{Name: middlewareName, Options: dconfig.Parameters{hooksOption: h}}},
	}
	return dc
}

// httpSecret returns the configured secret, or one kept in the data
// directory so that resumable uploads survive a restart.
func httpSecret(cfg config.Config) (string, error) {
	if cfg.HTTPSecret != "" {
		return cfg.HTTPSecret, nil
	}
	path := filepath.Join(cfg.Data, "http-secret")
	if raw, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(raw))) > 0 {
		return strings.TrimSpace(string(raw)), nil
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(buf)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing http secret: %w", err)
	}
	return secret, os.Rename(tmp, path)
}
