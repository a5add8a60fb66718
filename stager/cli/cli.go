// Package cli is the stager's command line: serve, pull, path, exec, ls,
// gc and status on one binary. Every subcommand takes --config, --registry,
// --cache and --insecure; pull and path print the staged path as the last
// line of standard output, progress and logs going to standard error.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/oyster-registry/oyster/stager"
	"github.com/oyster-registry/oyster/stager/config"
	"github.com/oyster-registry/oyster/stager/format"
)

const usage = `usage: stager COMMAND [flags] [REF]

commands:
  serve                    run the daemon: follow the registry's staging list
  pull [--format F] REF    stage REF; print its path
  path [--format F] REF    print REF's staged path, staging it first if needed
  exec [--format F] REF -- CMD [ARGS]
                           run CMD with REF held in the cache ({} in ARGS is its path)
  ls [--json]              list staged images
  gc [--json]              evict past the quota and remove unused blobs
  status [--json]          show the cache and its quota

flags of every command:
  --config FILE   YAML configuration (OYSTER_STAGER_* variables override it)
  --registry URL  registry to stage from
  --cache DIR     cache directory
  --insecure      allow a plain-HTTP registry
formats: oci, rootfs, squashfs, sif
`

// Main runs one command and returns the exit status.
func Main(args []string, stdout, stderr io.Writer, environ []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	// The command may follow flags: `stager --registry URL pull REF`.
	i := slices.IndexFunc(args, func(a string) bool { return commands[a] })
	if i < 0 {
		fmt.Fprintf(stderr, "stager: no command in %q\n%s", args, usage)
		return 2
	}
	cmd := args[i]
	if err := run(cmd, append(slices.Clone(args[:i]), args[i+1:]...), stdout, stderr, environ); err != nil {
		fmt.Fprintf(stderr, "stager %s: %v\n", cmd, err)
		if errors.Is(err, flag.ErrHelp) || errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

var errUsage = errors.New("see stager --help")

var commands = map[string]bool{"serve": true, "pull": true, "path": true, "exec": true, "ls": true, "gc": true, "status": true}

// options are the flags every command shares.
type options struct {
	config, registry, cache, format string
	insecure, json                  bool
}

func run(cmd string, args []string, stdout, stderr io.Writer, environ []string) error {
	var o options
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", "", "YAML configuration file")
	fs.StringVar(&o.registry, "registry", "", "registry URL")
	fs.StringVar(&o.cache, "cache", "", "cache directory")
	fs.BoolVar(&o.insecure, "insecure", false, "allow plain HTTP")
	fs.StringVar(&o.format, "format", "", "oci, rootfs, squashfs or sif")
	fs.BoolVar(&o.json, "json", false, "print JSON")
	pos, rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	cfg, err := o.load(environ)
	if err != nil {
		return err
	}
	level := slog.LevelWarn
	if cmd == "serve" {
		level = slog.LevelInfo
	}
	s, err := stager.New(cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})))
	if err != nil {
		return err
	}
	s.Progress = stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f, err := o.pickFormat(cfg)
	if err != nil {
		return err
	}
	switch cmd {
	case "serve":
		return s.Serve(ctx)
	case "pull", "path":
		ref, err := oneRef(pos)
		if err != nil {
			return err
		}
		var p string
		if cmd == "pull" {
			var st stager.Staged
			st, err = s.Stage(ctx, ref, f)
			p = st.Path
		} else {
			p, err = s.Path(ctx, ref, f)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, p)
		return nil
	case "exec":
		return execHeld(ctx, s, pos, rest, f, stdout, stderr)
	case "ls":
		entries, err := s.List()
		if err != nil {
			return err
		}
		return show(stdout, o.json, entries, func(w *tabwriter.Writer) { listTable(w, entries) })
	case "gc":
		rep, err := s.GC(ctx)
		if err != nil {
			return err
		}
		return show(stdout, o.json, rep, func(w *tabwriter.Writer) {
			fmt.Fprintf(w, "evicted\t%d images\nblobs removed\t%d\nfreed\t%s\nusage\t%s of %s (high %s, low %s)\n",
				len(rep.Evicted), rep.Blobs, humanBytes(rep.FreedBytes), humanBytes(rep.UsageBytes), humanBytes(rep.QuotaBytes), humanBytes(rep.HighBytes), humanBytes(rep.LowBytes))
		})
	case "status":
		st, err := s.Status()
		if err != nil {
			return err
		}
		return show(stdout, o.json, st, func(w *tabwriter.Writer) {
			fmt.Fprintf(w, "node\t%s\ncluster\t%s\nregistry\t%s\ncache\t%s\nimages\t%d\nusage\t%s of %s\npartial downloads\t%s\n",
				st.Node, st.Cluster, st.Registry, st.Cache, len(st.Images), humanBytes(st.UsageBytes), humanBytes(st.QuotaBytes), humanBytes(st.PartialBytes))
		})
	}
	panic("stager: command " + cmd + " listed but not run")
}

// parse reads flags wherever they are among the arguments before "--";
// what follows "--" is returned as rest.
func parse(fs *flag.FlagSet, args []string) (pos, rest []string, err error) {
	if i := slices.Index(args, "--"); i >= 0 {
		args, rest = args[:i], args[i+1:]
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, nil, err
		}
		if args = fs.Args(); len(args) == 0 {
			return pos, rest, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

func (o options) load(environ []string) (config.Config, error) {
	cfg, err := config.Load(o.config, environ)
	if err != nil {
		return cfg, err
	}
	if o.registry != "" {
		cfg.Registry.URL = o.registry
	}
	if o.cache != "" {
		cfg.Cache = o.cache
	}
	if o.insecure {
		cfg.Registry.Insecure = true
	}
	return cfg, cfg.Validate()
}

// pickFormat is --format, else the first configured format.
func (o options) pickFormat(cfg config.Config) (format.Format, error) {
	name := o.format
	if name == "" {
		name = string(format.SIF)
		if len(cfg.Formats) > 0 {
			name = cfg.Formats[0]
		}
	}
	return format.Parse(name)
}

func oneRef(pos []string) (string, error) {
	if len(pos) != 1 {
		return "", fmt.Errorf("want one image reference, got %d: %w", len(pos), errUsage)
	}
	return pos[0], nil
}

// execHeld runs a command while the image is held in use; {} in its
// arguments becomes the staged path, also given as OYSTER_STAGED_PATH.
func execHeld(ctx context.Context, s *stager.Stager, pos, rest []string, f format.Format, stdout, stderr io.Writer) error {
	ref, err := oneRef(pos)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return fmt.Errorf("no command after --: %w", errUsage)
	}
	p, release, err := s.Hold(ctx, ref, f)
	if err != nil {
		return err
	}
	defer release()
	argv := make([]string, len(rest))
	for i, a := range rest {
		argv[i] = strings.ReplaceAll(a, "{}", p)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.Env = append(os.Environ(), "OYSTER_STAGED_PATH="+p)
	return cmd.Run()
}

func show(w io.Writer, asJSON bool, v any, table func(*tabwriter.Writer)) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

func listTable(w *tabwriter.Writer, entries []stager.Entry) {
	fmt.Fprintln(w, "REFERENCE\tDIGEST\tFORMATS\tSIZE\tLAST USED\tHELD")
	for _, e := range entries {
		formats := make([]string, len(e.Formats))
		for i, f := range e.Formats {
			formats[i] = string(f)
		}
		held := ""
		if e.Pinned {
			held = "pinned "
		}
		if e.Leased {
			held += "leased"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", strings.Join(e.Refs, ","), e.Digest.Encoded()[:12], strings.Join(formats, ","),
			humanBytes(e.Bytes), e.LastUsed.Format(time.DateTime), held)
	}
}

// humanBytes prints a size in binary units.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
