// Package config is the stager's configuration: one YAML file whose every
// key can be overridden by an environment variable OYSTER_STAGER_<PATH>
// (registry.url → OYSTER_STAGER_REGISTRY_URL), as the registry's own
// configuration is read.
package config

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/oyster-registry/oyster/internal/envconfig"
	"github.com/oyster-registry/oyster/stager/format"
)

// EnvPrefix starts the name of every environment override.
const EnvPrefix = "OYSTER_STAGER"

// Config is the whole configuration of a stager.
type Config struct {
	Registry Registry `yaml:"registry"`
	// Cache is the node-local directory everything is staged in; several
	// stagers may share it.
	Cache string `yaml:"cache"`
	// Node and Cluster name this stager to the registry; Node defaults to
	// the host name.
	Node    string `yaml:"node"`
	Cluster string `yaml:"cluster"`
	// Formats are what the daemon stages each listed image as.
	Formats []string `yaml:"formats"`
	// Pins are references never evicted, staged by the daemon besides the
	// registry's list.
	Pins  []string `yaml:"pins"`
	Quota Quota    `yaml:"quota"`
	// PollInterval is how often the daemon asks for the staging list.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Concurrency is how many blobs download at once.
	Concurrency int `yaml:"concurrency"`
	// Bandwidth caps bytes per second read from the registry; 0 is none.
	Bandwidth int64 `yaml:"bandwidth"`
	// Lease is how long `stager path` keeps an image from eviction.
	Lease time.Duration `yaml:"lease"`
	// Addr is where the daemon serves /metrics and /healthz.
	Addr string `yaml:"addr"`
	// MaxLayerBytes caps one layer's unpacked bytes (a tar bomb stops there).
	MaxLayerBytes int64 `yaml:"max_layer_bytes"`
}

// Registry says where the registry is and how to log in.
type Registry struct {
	URL      string `yaml:"url"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Insecure allows plain HTTP.
	Insecure bool `yaml:"insecure"`
}

// Quota bounds the cache: past HighPercent of MaxBytes, least recently
// used images are evicted down to LowPercent. MaxBytes 0 means the size
// of the cache's filesystem.
type Quota struct {
	MaxBytes    int64 `yaml:"max_bytes"`
	HighPercent int64 `yaml:"high_percent"`
	LowPercent  int64 `yaml:"low_percent"`
}

// Default is a stager staging SIFs into /var/cache/oyster-stager; Load
// names the node after the host.
func Default() Config {
	return Config{
		Cache:        "/var/cache/oyster-stager",
		Cluster:      "default",
		Formats:      []string{string(format.SIF)},
		Quota:        Quota{HighPercent: 90, LowPercent: 80},
		PollInterval: 30 * time.Second,
		Concurrency:  4,
		Lease:        24 * time.Hour,
		Addr:         "localhost:5080",
	}
}

// Load reads the YAML file at path (if not empty) over the defaults, then
// the environment overrides, then validates.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	if err := envconfig.Load(&cfg, path, EnvPrefix, environ); err != nil {
		return cfg, err
	}
	if cfg.Node == "" {
		cfg.Node, _ = os.Hostname()
	}
	return cfg, cfg.Validate()
}

// Validate reports the first mistake, in words a user can act on.
func (c *Config) Validate() error {
	switch {
	case c.Cache == "":
		return errors.New("config: cache must not be empty")
	case c.Node == "":
		return errors.New("config: node must not be empty")
	case c.Concurrency < 1:
		return fmt.Errorf("config: concurrency is %d; it must be at least 1", c.Concurrency)
	case c.PollInterval <= 0:
		return fmt.Errorf("config: poll_interval is %s; it must be positive", c.PollInterval)
	case c.Quota.MaxBytes < 0 || c.Bandwidth < 0 || c.MaxLayerBytes < 0:
		return errors.New("config: quota.max_bytes, bandwidth and max_layer_bytes must not be negative")
	case c.Quota.LowPercent < 1 || c.Quota.LowPercent > c.Quota.HighPercent || c.Quota.HighPercent > 100:
		return fmt.Errorf("config: quota watermarks %d%%/%d%%: want 1 ≤ low ≤ high ≤ 100", c.Quota.LowPercent, c.Quota.HighPercent)
	}
	for _, f := range c.Formats {
		if _, err := format.Parse(f); err != nil {
			return fmt.Errorf("config: formats: %w", err)
		}
	}
	return nil
}

// EnvKeys lists every environment variable the configuration reads.
func EnvKeys() []string { return envconfig.Keys(&Config{}, EnvPrefix) }
