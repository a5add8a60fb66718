package gitsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/recipes"
)

// work runs queued builds one after the other until ctx ends.
func (s *Service) work(ctx context.Context) {
	for ctx.Err() == nil {
		rec, ok, err := s.store.claim(time.Now().UTC())
		if err != nil {
			s.log.Error("build queue", "error", err)
		}
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			case <-time.After(5 * time.Second): // another worker's wake-up may have been spent
			}
			continue
		}
		s.signal() // more may be queued: wake another worker
		s.run(ctx, rec)
	}
}

// run carries out one claimed build and records how it ended.
func (s *Service) run(parent context.Context, rec record) {
	ctx, cancel := context.WithTimeout(parent, s.opts.Timeout)
	defer cancel()
	rb := &runningBuild{cancel: cancel}
	s.mu.Lock()
	s.running[rec.ID] = rb
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, rec.ID)
		s.mu.Unlock()
	}()

	log, err := os.OpenFile(s.logPath(rec.ID), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.log.Error("opening a build log", "id", rec.ID, "error", err)
		log = nil
	}
	var w io.Writer = io.Discard
	if log != nil {
		w = log
		defer log.Close()
	}
	fmt.Fprintf(w, "*** build %s: %s of %s at %s, attempt %d (%s)\n", rec.ID, rec.Recipe, rec.Source, rec.Commit, rec.Attempt, rec.Trigger)
	res, err := s.execute(ctx, &rec, w)

	if parent.Err() != nil && !rb.cancelled { // the registry is stopping: leave it for the next start
		fmt.Fprintf(w, "\n*** the registry stopped during this build; it runs again\n")
		s.finish(rec.ID, func(r *record) { r.Status, r.Finished, r.Attempt = api.BuildQueued, nil, r.Attempt-1 })
		return
	}
	now := time.Now().UTC()
	switch {
	case err == nil:
		fmt.Fprintf(w, "\n*** succeeded: %s@%s, tags %v\n", rec.Repository, res.Digest, rec.Tags)
		// The dependents are queued before the build is marked done, so
		// that the queue is never seen idle with the cascade still to come.
		s.cascade(rec, res.Digest)
		s.finish(rec.ID, func(r *record) {
			r.Status, r.Digest, r.Tags, r.Finished, r.Error = api.BuildSucceeded, res.Digest, rec.Tags, &now, ""
		})
		s.log.Info("build succeeded", "id", rec.ID, "repository", rec.Repository, "digest", res.Digest)
		return
	case rb.cancelled:
		err = errors.New("cancelled")
		s.finish(rec.ID, func(r *record) { r.Status, r.Finished, r.Error = api.BuildCancelled, &now, "cancelled" })
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		err = fmt.Errorf("killed: the build ran past its time limit of %s", s.opts.Timeout)
		s.finish(rec.ID, func(r *record) { r.Status, r.Finished, r.Error = api.BuildFailed, &now, err.Error() })
	case recipes.IsInfra(err) && rec.Attempt <= s.opts.Retries:
		fmt.Fprintf(w, "\n*** %v\n*** an infrastructure error: trying again\n", err)
		s.finish(rec.ID, func(r *record) { r.Status, r.Error = api.BuildQueued, err.Error() })
		s.signal()
		return
	default:
		s.finish(rec.ID, func(r *record) { r.Status, r.Finished, r.Error = api.BuildFailed, &now, err.Error() })
	}
	fmt.Fprintf(w, "\n*** %s: %v\n", rec.ID, err)
	s.log.Warn("build did not succeed", "id", rec.ID, "recipe", rec.Recipe, "error", err)
}

func (s *Service) finish(id string, fn func(*record)) {
	if _, err := s.store.update(id, func(r *record) bool { fn(r); return true }); err != nil {
		s.log.Error("recording a build", "id", id, "error", err)
	}
}

// execute checks the commit out, finds the recipe and builds it.
func (s *Service) execute(ctx context.Context, rec *record, w io.Writer) (recipes.Result, error) {
	r := s.repos[rec.Source]
	if r == nil {
		return recipes.Result{}, fmt.Errorf("source %s is no longer configured", rec.Source)
	}
	if _, err := r.commit(rec.Commit); err != nil { // a new process: open (and update) the clone
		if _, err := r.fetch(ctx); err != nil {
			return recipes.Result{}, &recipes.InfraError{Err: err}
		}
	}
	dir, err := r.checkout(rec.Commit)
	if err != nil {
		return recipes.Result{}, &recipes.InfraError{Err: err}
	}
	found, err := recipes.Find(os.DirFS(dir), r.src.Name)
	if err != nil {
		return recipes.Result{}, err
	}
	var rc *recipes.Recipe
	for i := range found {
		if found[i].Path == rec.Recipe {
			rc = &found[i]
		}
	}
	if rc == nil {
		return recipes.Result{}, fmt.Errorf("commit %s has no recipe %s", rec.Commit, rec.Recipe)
	}
	b := s.builderFor(r.src, rc.Kind)
	if b == nil {
		return recipes.Result{}, fmt.Errorf("%s: %w", rc.Path, errNoBuilder)
	}
	start := time.Now().UTC()
	rev := recipes.Revision{Commit: rec.Commit, Branch: r.src.Branch, DefaultBranch: true, Time: start}
	rec.Tags, rec.Builder = rc.TagsFor(rev), b.Name()
	s.finish(rec.ID, func(x *record) { x.Tags, x.Builder = rec.Tags, rec.Builder })
	fmt.Fprintf(w, "*** %s builds %s into %s/%s, tags %v\n", b.Name(), rc.Path, s.opts.Registry, rc.Repository, rec.Tags)
	labels := map[string]string{}
	if rc.Hub {
		labels["org.oyster.hub"] = "true"
	}
	work := filepath.Join(s.opts.Dir, "work", rec.ID)
	defer os.RemoveAll(work)
	return b.Build(ctx, recipes.Request{
		Root: dir, Recipe: *rc, Registry: s.opts.Registry, Insecure: true, Tags: rec.Tags,
		Annotations: map[string]string{
			"org.opencontainers.image.source":   r.src.URL,
			"org.opencontainers.image.revision": rec.Commit,
			"org.opencontainers.image.created":  start.Format(time.RFC3339),
			"org.opencontainers.image.version":  rev.Short(),
			"org.oyster.recipe":                 rc.Path,
			"org.oyster.source":                 r.src.Name,
		},
		Labels: labels, WorkDir: work, Log: w,
	})
}

// builderFor is the source's chosen builder, else the first that builds
// the kind.
func (s *Service) builderFor(src Source, k recipes.Kind) recipes.Builder {
	if b := s.builderNamed(src.Builder); b != nil && b.Supports(k) {
		return b
	}
	return recipes.Select(s.opts.Builders, k)
}

// cascade queues the recipes, in every source at its last handled head,
// whose base is the image just built: once per base digest, and never
// back to a recipe already in the chain that led here.
func (s *Service) cascade(built record, digest string) {
	inChain := map[string]bool{}
	for _, c := range built.Chain {
		inChain[c] = true
	}
	for _, name := range s.order {
		r := s.repos[name]
		head, err := s.store.head(name)
		if err != nil || head == "" {
			continue
		}
		dir, err := r.checkout(head)
		if err != nil {
			s.log.Warn("base cascade: checkout", "source", name, "error", err)
			continue
		}
		found, err := recipes.Find(os.DirFS(dir), name)
		if err != nil {
			continue
		}
		for _, rc := range found {
			if inChain[name+":"+rc.Path] {
				continue
			}
			decl, err := recipes.Declare(dir, rc)
			if err != nil {
				continue
			}
			for _, b := range decl.Bases {
				if s.ourRepository(b) == built.Repository {
					if _, err := s.enqueue(r, rc, head, "base "+built.Repository, digest, built.Chain); err != nil {
						s.log.Error("base cascade", "error", err)
					}
					break
				}
			}
		}
	}
}

func (s *Service) logPath(id string) string {
	return filepath.Join(s.opts.Dir, "logs", id+".log")
}

func (s *Service) appendLog(id, msg string) {
	if err := os.MkdirAll(filepath.Join(s.opts.Dir, "logs"), 0o755); err != nil {
		return
	}
	f, err := os.OpenFile(s.logPath(id), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.WriteString(msg)
}

// FollowLog writes the build's log to w as it grows, until the build
// finishes (or ctx ends); with follow false it writes what there is.
func (s *Service) FollowLog(ctx context.Context, id string, follow bool, w func([]byte) error) error {
	if _, err := s.Build(id); err != nil {
		return err
	}
	var offset int64
	buf := make([]byte, 32<<10)
	for {
		done := false
		if b, err := s.Build(id); err == nil {
			done = b.Status != api.BuildQueued && b.Status != api.BuildRunning
		}
		f, err := os.Open(s.logPath(id))
		if err == nil {
			for {
				n, rerr := f.ReadAt(buf, offset)
				if n > 0 {
					offset += int64(n)
					if err := w(buf[:n]); err != nil {
						f.Close()
						return err
					}
				}
				if rerr != nil {
					break
				}
			}
			f.Close()
		}
		if done || !follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}
