// Command registry is Oyster's registry process: the OCI and SIF registry on
// /v2/, and everything Oyster serves beside it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/oyster-registry/oyster/config"
	"github.com/oyster-registry/oyster/progress"
	"github.com/oyster-registry/oyster/server"
)

const usage = `usage: registry [serve] [flags]

Subcommands:
  serve        run the registry (the default)
  reindex      rebuild the catalog from storage (stop the registry first);
               --retry-failed also indexes again the images recorded as
               partial or failed, which a reindex otherwise keeps
  env          list the environment variables that override configuration
  healthcheck  exit 0 when the registry at --url answers /healthz with 200
  token        create, list and revoke robot tokens (registry token for help)

Flags for serve:
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Environ(), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, environ, stderr)
	case "env":
		for _, k := range config.EnvKeys() {
			fmt.Fprintln(stdout, k)
		}
		return nil
	case "reindex":
		return reindex(ctx, args, environ, stderr)
	case "healthcheck":
		return healthcheck(ctx, args, stderr)
	case "token":
		return token(args, environ, stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown subcommand %q", cmd)
	}
}

// healthcheck lets container runtimes probe a registry image that has no
// shell or curl.
func healthcheck(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:5000/healthz", "health endpoint to probe")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", *url, resp.Status)
	}
	return nil
}

// loadConfig parses the flags every process-running subcommand shares, and
// those flags adds, and returns the configuration: defaults, file,
// environment, then flags.
func loadConfig(name string, args, environ []string, stderr io.Writer, flags func(*flag.FlagSet)) (config.Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if flags != nil {
		flags(fs)
	}
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	configFile := fs.String("config", "", "YAML configuration file (see config.example.yml)")
	addr := fs.String("addr", "", "listen address (default localhost:5000)")
	data := fs.String("data", "", "data directory (default ./data)")
	if err := fs.Parse(args); err != nil {
		return config.Config{}, err
	}
	cfg, err := config.Load(*configFile, environ)
	if err != nil {
		return cfg, err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	if *data != "" {
		cfg.Data = *data
	}
	return cfg, cfg.Validate()
}

func serve(ctx context.Context, args, environ []string, stderr io.Writer) error {
	return withServer(ctx, "serve", args, environ, stderr, nil, func(ctx context.Context, srv *server.Server) error {
		return srv.ListenAndServe(ctx, nil)
	})
}

// reindex rebuilds the catalog's records and search index from storage,
// showing progress.
func reindex(ctx context.Context, args, environ []string, stderr io.Writer) error {
	var retryFailed bool
	flags := func(fs *flag.FlagSet) {
		fs.BoolVar(&retryFailed, "retry-failed", false, "index again the images recorded as partial or failed")
	}
	return withServer(ctx, "reindex", args, environ, stderr, flags, func(ctx context.Context, srv *server.Server) error {
		return srv.Reindex(ctx, progress.New(stderr, "reindex").Update, retryFailed)
	})
}

// withServer loads the configuration, builds the server and runs fn until
// it returns or the process is asked to stop.
func withServer(ctx context.Context, name string, args, environ []string, stderr io.Writer, flags func(*flag.FlagSet), fn func(context.Context, *server.Server) error) error {
	cfg, err := loadConfig(name, args, environ, stderr, flags)
	if err != nil {
		return err
	}
	log := server.NewLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg, server.Options{Logger: log})
	if err != nil {
		return err
	}
	defer srv.Close()
	return fn(ctx, srv)
}
