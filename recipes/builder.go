package recipes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Builder builds one kind of recipe and pushes the image.
type Builder interface {
	// Name is what build records and logs call the builder.
	Name() string
	// Supports says whether the builder builds recipes of kind k.
	Supports(k Kind) bool
	// Build builds req.Recipe from req.Root and pushes it to every one of
	// req.Tags, or to none of them when it fails.
	Build(ctx context.Context, req Request) (Result, error)
}

// Request is one build.
type Request struct {
	// Root is the checked-out repository on disk.
	Root   string
	Recipe Recipe
	// Registry is host[:port] of the Oyster to push to, over plain HTTP
	// when Insecure.
	Registry string
	Insecure bool
	// Tags are the tags to push; the first is pushed first, the others
	// point at the same manifest afterwards.
	Tags []string
	// Annotations go on the manifest; they are also set as labels, so
	// that image configs (and SIF labels) carry them too.
	Annotations map[string]string
	// Labels are extra image labels (org.oyster.hub).
	Labels map[string]string
	// WorkDir is the builder's scratch space for this build.
	WorkDir string
	Log     io.Writer
}

// Result is a successful build.
type Result struct {
	Digest   string   `json:"digest"`
	Declared Declared `json:"declared"`
}

// InfraError is a failure of the machinery (a tool missing, the registry
// unreachable), not of the recipe: the build may be retried.
type InfraError struct{ Err error }

func (e *InfraError) Error() string { return e.Err.Error() }
func (e *InfraError) Unwrap() error { return e.Err }

// IsInfra reports whether err is an infrastructure failure worth a retry.
func IsInfra(err error) bool {
	var ie *InfraError
	return errors.As(err, &ie)
}

func infra(format string, args ...any) error {
	return &InfraError{Err: fmt.Errorf(format, args...)}
}

// Select returns the first builder that supports kind k, or nil.
func Select(builders []Builder, k Kind) Builder {
	for _, b := range builders {
		if b.Supports(k) {
			return b
		}
	}
	return nil
}

// CheckInside refuses a recipe whose file or build context reaches outside
// root, through ../ or through a symbolic link.
func CheckInside(root string, r Recipe) error {
	for _, p := range []string{r.Path, r.Context} {
		if _, err := InsidePath(p); err != nil {
			return &ParseError{Path: r.Path, Msg: err.Error()}
		}
	}
	absRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	if fi, err := os.Lstat(filepath.Join(root, r.Path)); err != nil || !fi.Mode().IsRegular() {
		return &ParseError{Path: r.Path, Msg: "the recipe is not a regular file in the repository"}
	}
	ctxDir := filepath.Join(root, filepath.FromSlash(r.Context))
	return filepath.WalkDir(ctxDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&os.ModeSymlink == 0 {
			return nil
		}
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			rel, _ := filepath.Rel(root, p)
			return &ParseError{Path: r.Path, Msg: fmt.Sprintf("symbolic link %s in the build context does not resolve: %v", filepath.ToSlash(rel), err)}
		}
		if target != absRoot && !strings.HasPrefix(target, absRoot+string(filepath.Separator)) {
			rel, _ := filepath.Rel(root, p)
			return &ParseError{Path: r.Path, Msg: fmt.Sprintf("symbolic link %s in the build context points outside the repository", filepath.ToSlash(rel))}
		}
		return nil
	})
}

// run runs a command with its output in log; cancelling ctx kills it and
// every process it started.
func run(ctx context.Context, log io.Writer, dir string, name string, args ...string) error {
	fmt.Fprintf(log, "$ %s %s\n", name, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so that a cancel kills everything it started;
	// and killed with the registry, so that a registry killed with -9
	// leaves no build running on after it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err := cmd.Run()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return infra("%s: %w", name, err) // could not start it
	}
	return err
}

// sortedPairs renders a map as flag values "k=v", sorted by key.
func sortedPairs(flag string, m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, flag, k+"="+m[k])
	}
	return out
}
