package gitsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/recipes"
)

// Options configure a Service.
type Options struct {
	// Dir holds the clones, checked-out trees, logs and the queue.
	Dir        string
	Sources    []Source
	AllowLocal bool
	// Registry is the host[:port] builds push to, over plain HTTP; Start
	// sets it.
	Registry string
	// Builders in order of preference; a source may name one.
	Builders    []recipes.Builder
	Concurrency int
	Timeout     time.Duration
	Retries     int
	Log         *slog.Logger
}

// Service tracks the sources and runs their builds.
type Service struct {
	opts    Options
	log     *slog.Logger
	store   *store
	repos   map[string]*repo
	order   []string // source names as configured
	wake    chan struct{}
	mu      sync.Mutex
	running map[string]*runningBuild
	wg      sync.WaitGroup
}

type runningBuild struct {
	cancel    context.CancelFunc
	cancelled bool
}

// Open checks the sources and opens the queue. A build the last process
// left running (it was killed) is queued again, or failed once it used
// its retries: none stays "running".
func Open(opts Options) (*Service, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Service{opts: opts, log: opts.Log, repos: map[string]*repo{}, wake: make(chan struct{}, 1), running: map[string]*runningBuild{}}
	for _, src := range opts.Sources {
		if err := checkURL(src.URL, opts.AllowLocal); err != nil {
			return nil, fmt.Errorf("source %s: %w", src.Name, err)
		}
		if !recipes.ValidRepository(src.Name) {
			return nil, fmt.Errorf("source %s: the name must be a valid repository name (lower case, digits, . _ -)", src.Name)
		}
		if src.Branch == "" {
			src.Branch = "main"
		}
		if src.Builder != "" && s.builderNamed(src.Builder) == nil {
			return nil, fmt.Errorf("source %s: builder %s is not available on this machine", src.Name, src.Builder)
		}
		s.repos[src.Name] = newRepo(src, opts.Dir)
		s.order = append(s.order, src.Name)
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	st, err := openStore(filepath.Join(opts.Dir, "builds.db"))
	if err != nil {
		return nil, err
	}
	s.store = st
	if err := s.recover(); err != nil {
		st.close()
		return nil, err
	}
	return s, nil
}

// recover requeues or fails what a killed process left running.
func (s *Service) recover() error {
	recs, err := s.store.list()
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if rec.Status != api.BuildRunning {
			continue
		}
		_, err := s.store.update(rec.ID, func(r *record) bool {
			now := time.Now().UTC()
			if r.Attempt <= s.opts.Retries {
				r.Status, r.Error = api.BuildQueued, ""
				s.appendLog(r.ID, "\n*** the registry stopped during this build; it runs again\n")
			} else {
				r.Status, r.Finished, r.Error = api.BuildFailed, &now, "the registry stopped during the build, and it used its retries"
				s.appendLog(r.ID, "\n*** "+r.Error+"\n")
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Start runs the build workers and the pollers until ctx ends; builds
// push to registry (host[:port], plain HTTP).
func (s *Service) Start(ctx context.Context, registry string) {
	s.opts.Registry = registry
	for i := 0; i < max(1, s.opts.Concurrency); i++ {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.work(ctx)
		}()
	}
	for _, name := range s.order {
		if r := s.repos[name]; r.src.PollInterval > 0 {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.poll(ctx, r)
			}()
		}
	}
	s.signal()
}

// Close waits for the workers (after Start's ctx ended) and closes the queue.
func (s *Service) Close() error {
	s.wg.Wait()
	return s.store.close()
}

func (s *Service) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// poll fetches the source every PollInterval and handles a moved head
// like a push.
func (s *Service) poll(ctx context.Context, r *repo) {
	t := time.NewTicker(r.src.PollInterval)
	defer t.Stop()
	for {
		if _, _, err := s.sync(ctx, r, "", "poll"); err != nil && ctx.Err() == nil {
			s.log.Warn("polling a source", "source", r.src.Name, "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sync fetches r and queues what changed between the last head handled
// and the branch's head. Without one (the first sync), a webhook's before
// is used; the last head handled comes first because it also covers pushes
// whose deliveries were lost.
func (s *Service) sync(ctx context.Context, r *repo, before, trigger string) ([]api.Build, string, error) {
	head, err := r.fetch(ctx)
	if err != nil {
		return nil, "", err
	}
	last, err := s.store.head(r.src.Name)
	if err != nil {
		return nil, "", err
	}
	if head == last {
		return nil, "the branch head was handled already", nil
	}
	if last != "" {
		before = last
	}
	return s.onPush(r, before, head, trigger)
}

// onPush queues the recipes that changed between before and after.
func (s *Service) onPush(r *repo, before, after, trigger string) ([]api.Build, string, error) {
	c, err := r.commit(after)
	if err != nil {
		return nil, "", err
	}
	if strings.Contains(c.Message, "[skip build]") {
		return nil, "the head commit says [skip build]", s.store.setHead(r.src.Name, after)
	}
	paths, all, err := r.changedPaths(before, after)
	if err != nil {
		return nil, "", err
	}
	dir, err := r.checkout(after)
	if err != nil {
		return nil, "", err
	}
	found, err := recipes.Find(os.DirFS(dir), r.src.Name)
	if err != nil {
		return nil, "", &api.Error{Code: api.CodeInvalidRequest, Message: fmt.Sprintf("source %s at %s: %v", r.src.Name, after[:12], err)}
	}
	var changed []recipes.Recipe
	for _, rc := range found {
		if all || touched(rc, paths) {
			changed = append(changed, rc)
		}
	}
	// The head is recorded before the builds are queued: the cascade of a
	// build that finishes at once looks for dependents at this head.
	if err := s.store.setHead(r.src.Name, after); err != nil {
		return nil, "", err
	}
	var queued []api.Build
	for _, rc := range s.withoutDependents(dir, changed) {
		rec, err := s.enqueue(r, rc, after, trigger, "", nil)
		if err != nil {
			return queued, "", err
		}
		queued = append(queued, rec.Build)
	}
	if len(queued) == 0 {
		return nil, "no recipe changed", nil
	}
	return queued, "", nil
}

// touched says whether a change to one of paths rebuilds rc: its file,
// anything in its build context, or oyster.yaml.
func touched(rc recipes.Recipe, paths []string) bool {
	for _, p := range paths {
		if p == rc.Path || p == recipes.ConfigFile || rc.Context == "." || strings.HasPrefix(p, rc.Context+"/") {
			return true
		}
	}
	return false
}

// withoutDependents drops the recipes built on another recipe of the same
// set: the base cascade builds them after their base, once. In a cycle
// the first recipe in path order stays.
func (s *Service) withoutDependents(dir string, set []recipes.Recipe) []recipes.Recipe {
	byRepo := map[string]bool{}
	for _, rc := range set {
		byRepo[rc.Repository] = true
	}
	var keep []recipes.Recipe
	for _, rc := range set {
		decl, err := recipes.Declare(dir, rc)
		dependent := false
		for _, b := range decl.Bases {
			if repo := s.ourRepository(b); err == nil && byRepo[repo] && repo != rc.Repository {
				dependent = true
			}
		}
		if dependent {
			byRepo[rc.Repository] = false // a cycle through rc starts at its base
			continue
		}
		keep = append(keep, rc)
	}
	return keep
}

// ourRepository is the repository an image reference names in this
// registry, or "" when it names another registry.
func (s *Service) ourRepository(ref string) string {
	host, rest, ok := strings.Cut(ref, "/")
	if !ok || !sameHost(host, s.opts.Registry) {
		return ""
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		rest = rest[:i]
	}
	return rest
}

// sameHost compares host:port pairs, localhost and 127.0.0.1 alike.
func sameHost(a, b string) bool {
	norm := func(h string) string { return strings.Replace(h, "localhost", "127.0.0.1", 1) }
	return norm(a) == norm(b)
}

// enqueue adds a build of rc at commit; a build with the same key (source,
// commit, recipe, and the base digest of a cascade) is not added twice.
func (s *Service) enqueue(r *repo, rc recipes.Recipe, commit, trigger, baseDigest string, chain []string) (record, error) {
	key := strings.Join([]string{r.src.Name, commit, rc.Path, baseDigest}, "|")
	if trigger == "rebuild" {
		key += "|" + time.Now().UTC().Format(time.RFC3339Nano) // forced: never deduplicated
	}
	rec := record{
		Build: api.Build{Source: r.src.Name, Recipe: rc.Path, Commit: commit, Status: api.BuildQueued, Tags: []string{},
			Repository: rc.Repository, Branch: r.src.Branch, Trigger: trigger, Queued: time.Now().UTC()},
		Key: key, Chain: append(append([]string{}, chain...), r.src.Name+":"+rc.Path),
	}
	rec, added, err := s.store.add(rec)
	if err != nil {
		return rec, err
	}
	if added {
		s.log.Info("build queued", "id", rec.ID, "source", rec.Source, "recipe", rec.Recipe, "commit", commit, "trigger", trigger)
		s.signal()
	}
	return rec, nil
}

// Rebuild queues every recipe of the source at its branch head, or only
// the one at path recipe.
func (s *Service) Rebuild(ctx context.Context, source, recipe string) ([]api.Build, error) {
	r := s.repos[source]
	if r == nil {
		return nil, &api.Error{Code: api.CodeNotFound, Message: fmt.Sprintf("no source %q", source)}
	}
	head, err := r.fetch(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.store.setHead(source, head); err != nil {
		return nil, err
	}
	dir, err := r.checkout(head)
	if err != nil {
		return nil, err
	}
	found, err := recipes.Find(os.DirFS(dir), source)
	if err != nil {
		return nil, &api.Error{Code: api.CodeInvalidRequest, Message: err.Error()}
	}
	var out []api.Build
	for _, rc := range found {
		if recipe != "" && rc.Path != recipe {
			continue
		}
		rec, err := s.enqueue(r, rc, head, "rebuild", "", nil)
		if err != nil {
			return out, err
		}
		out = append(out, rec.Build)
	}
	if len(out) == 0 {
		return nil, &api.Error{Code: api.CodeNotFound, Message: fmt.Sprintf("source %s has no recipe %q at %s", source, recipe, head[:12])}
	}
	return out, nil
}

// Builds lists the build records, newest first.
func (s *Service) Builds() ([]api.Build, error) {
	recs, err := s.store.list()
	out := make([]api.Build, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Build)
	}
	return out, err
}

// Build returns one build record.
func (s *Service) Build(id string) (api.Build, error) {
	rec, ok, err := s.store.get(id)
	if err != nil {
		return api.Build{}, err
	}
	if !ok {
		return api.Build{}, &api.Error{Code: api.CodeNotFound, Message: fmt.Sprintf("no build %q", id)}
	}
	return rec.Build, nil
}

// Cancel stops a queued or running build.
func (s *Service) Cancel(id string) (api.Build, error) {
	b, err := s.Build(id)
	if err != nil {
		return api.Build{}, err
	}
	if b.Status != api.BuildQueued && b.Status != api.BuildRunning {
		return b, &api.Error{Code: api.CodeConflict, Message: fmt.Sprintf("build %s is %s already", id, b.Status)}
	}
	s.mu.Lock()
	if rb := s.running[id]; rb != nil {
		rb.cancelled = true
		rb.cancel()
		s.mu.Unlock()
		return s.Build(id)
	}
	s.mu.Unlock()
	var finished bool
	rec, err := s.store.update(id, func(r *record) bool {
		if r.Status != api.BuildQueued {
			finished = r.Status != api.BuildRunning
			return false
		}
		now := time.Now().UTC()
		r.Status, r.Finished = api.BuildCancelled, &now
		return true
	})
	if err == nil && finished {
		return rec.Build, &api.Error{Code: api.CodeConflict, Message: fmt.Sprintf("build %s is %s already", id, rec.Status)}
	}
	return rec.Build, err
}

func (s *Service) builderNamed(name string) recipes.Builder {
	for _, b := range s.opts.Builders {
		if b.Name() == name {
			return b
		}
	}
	return nil
}

var errNoBuilder = errors.New("no builder on this machine builds this kind of recipe")

// maxRecipeText bounds the recipe text an image page shows.
const maxRecipeText = 1 << 20

// Recipe returns the recipe at path of source at commit, with what it
// declares.
func (s *Service) Recipe(source, commit, path string) (api.RecipeSource, error) {
	r := s.repos[source]
	if r == nil {
		return api.RecipeSource{}, &api.Error{Code: api.CodeNotFound, Message: fmt.Sprintf("no source %q", source)}
	}
	if _, err := r.commit(commit); err != nil {
		return api.RecipeSource{}, &api.Error{Code: api.CodeNotFound, Message: fmt.Sprintf("source %s has no commit %q", source, commit)}
	}
	dir, err := r.checkout(commit)
	if err != nil {
		return api.RecipeSource{}, err
	}
	found, err := recipes.Find(os.DirFS(dir), source)
	if err != nil {
		return api.RecipeSource{}, &api.Error{Code: api.CodeInvalidRequest, Message: err.Error()}
	}
	for _, rc := range found {
		if rc.Path != path {
			continue
		}
		text, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rc.Path)))
		if err != nil {
			return api.RecipeSource{}, err
		}
		out := api.RecipeSource{Source: source, Commit: commit, Path: path, CommitURL: commitURL(r.src.URL, commit),
			Text: string(text[:min(len(text), maxRecipeText)]), Packages: []api.DeclaredPackage{}}
		if decl, err := recipes.Declare(dir, rc); err == nil { // a malformed recipe is still shown
			out.Base = decl.Base
			for _, p := range decl.Packages {
				out.Packages = append(out.Packages, api.DeclaredPackage{Manager: p.Manager, Name: p.Name, Version: p.Version})
			}
		}
		return out, nil
	}
	return api.RecipeSource{}, &api.Error{Code: api.CodeNotFound, Message: fmt.Sprintf("source %s has no recipe %q at %s", source, path, commit)}
}

// commitURL is the web page of commit on an https forge (GitHub, GitLab
// and Gitea all answer /commit/<sha>), or "" for other sources.
func commitURL(sourceURL, commit string) string {
	if !strings.HasPrefix(sourceURL, "https://") {
		return ""
	}
	return strings.TrimSuffix(strings.TrimSuffix(sourceURL, "/"), ".git") + "/commit/" + commit
}
