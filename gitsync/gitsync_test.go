package gitsync

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/recipes"
)

const registryHost = "127.0.0.1:5999"

// fakeBuilder builds nothing: it records what it is asked and answers as
// told, so that the queue's behaviour is tested without buildah.
type fakeBuilder struct {
	mu      sync.Mutex
	built   []string         // recipe paths, in the order builds started
	fail    map[string]error // recipe path → error of every build
	infra   map[string]int   // recipe path → infrastructure failures before success
	block   chan struct{}    // when set, builds wait for it or their context
	started chan string
}

func (f *fakeBuilder) Name() string                 { return "fake" }
func (f *fakeBuilder) Supports(k recipes.Kind) bool { return true }
func (f *fakeBuilder) Build(ctx context.Context, req recipes.Request) (recipes.Result, error) {
	f.mu.Lock()
	f.built = append(f.built, req.Recipe.Path)
	err := f.fail[req.Recipe.Path]
	if f.infra[req.Recipe.Path] > 0 {
		f.infra[req.Recipe.Path]--
		err = &recipes.InfraError{Err: errors.New("registry unreachable")}
	}
	block, started := f.block, f.started
	f.mu.Unlock()
	if started != nil {
		started <- req.Recipe.Path
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return recipes.Result{}, ctx.Err()
		}
	}
	if err != nil {
		return recipes.Result{}, err
	}
	fmt.Fprintf(req.Log, "built %s\n", req.Recipe.Path)
	f.mu.Lock()
	n := len(f.built)
	f.mu.Unlock()
	sum := sha256.Sum256([]byte(fmt.Sprint(req.Recipe.Path, n))) // a new image every build, as a real build's created time makes
	return recipes.Result{Digest: "sha256:" + hex.EncodeToString(sum[:])}, nil
}

func (f *fakeBuilder) builds() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string{}, f.built...)
}

// gitRepo is a bare repository and a clone that pushes to it.
type gitRepo struct {
	t          *testing.T
	bare, work string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is not installed: run scripts/install-test-deps.sh")
	}
	dir := t.TempDir()
	g := &gitRepo{t: t, bare: filepath.Join(dir, "src.git"), work: filepath.Join(dir, "work")}
	g.git("init", "-q", "--bare", "-b", "main", g.bare)
	g.git("clone", "-q", g.bare, g.work)
	g.git("-C", g.work, "checkout", "-q", "-B", "main")
	return g
}

func (g *gitRepo) git(args ...string) string {
	g.t.Helper()
	out, err := exec.Command("git", args...).CombinedOutput()
	if err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files ("" deletes one), commits with msg, pushes, and
// returns the new commit.
func (g *gitRepo) commit(msg string, files map[string]string) string {
	g.t.Helper()
	for name, content := range files {
		p := filepath.Join(g.work, name)
		if content == "" {
			os.Remove(p)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			g.t.Fatal(err)
		}
	}
	g.git("-C", g.work, "add", "-A")
	g.git("-C", g.work, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "--allow-empty", "-m", msg)
	g.git("-C", g.work, "push", "-q", "origin", "main")
	return g.git("-C", g.work, "rev-parse", "HEAD")
}

const secret = "s3cret"

func openService(t *testing.T, dir string, g *gitRepo, b recipes.Builder, tweak func(*Options)) (*Service, context.CancelFunc) {
	t.Helper()
	opts := Options{
		Dir: dir, AllowLocal: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Builders: []recipes.Builder{b}, Concurrency: 1, Timeout: time.Minute, Retries: 1,
		Sources: []Source{{Name: "lab", URL: g.bare, Branch: "main", WebhookSecret: secret}},
	}
	if tweak != nil {
		tweak(&opts)
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.Start(ctx, registryHost)
	t.Cleanup(func() { cancel(); s.Close() })
	return s, cancel
}

func githubPush(t *testing.T, s *Service, g *gitRepo, before, after string) (api.WebhookResult, error) {
	t.Helper()
	body := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","before":%q,"after":%q,"repository":{"clone_url":%q}}`, before, after, g.bare))
	h := http.Header{"X-Github-Event": {"push"}, "X-Hub-Signature-256": {"sha256=" + hmacHex(secret, body)}}
	return s.Webhook(context.Background(), "github", "", h, body)
}

// pushQueues delivers a push from before to after and returns the recipes
// it queued, space-separated in queue order.
func pushQueues(t *testing.T, s *Service, g *gitRepo, before, after string) string {
	t.Helper()
	res, err := githubPush(t, s, g, before, after)
	if err != nil {
		t.Fatal(err)
	}
	var queued []string
	for _, b := range res.Queued {
		queued = append(queued, b.Recipe)
	}
	return strings.Join(queued, " ")
}

func hmacHex(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// waitIdle waits until no build is queued or running and returns them
// all, oldest first.
func waitIdle(t *testing.T, s *Service) []api.Build {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		list, err := s.Builds()
		if err != nil {
			t.Fatal(err)
		}
		busy := false
		for _, b := range list {
			busy = busy || b.Status == api.BuildQueued || b.Status == api.BuildRunning
		}
		if !busy {
			for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
				list[i], list[j] = list[j], list[i]
			}
			return list
		}
		if time.Now().After(deadline) {
			t.Fatalf("builds never finished: %+v", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func statuses(list []api.Build) map[string]string {
	out := map[string]string{}
	for _, b := range list {
		out[b.Recipe] += b.Status + " "
	}
	for k, v := range out {
		out[k] = strings.TrimSpace(v)
	}
	return out
}

func TestCheckURL(t *testing.T) {
	for _, u := range []string{"https://github.com/lab/envs.git", "ssh://git@host/lab/envs", "git@github.com:lab/envs.git"} {
		if err := checkURL(u, false); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{"http://github.com/lab/envs", "git://host/x", "ftp://x/y", "/srv/git/envs", "file:///srv/git/envs", "relative/path", "ext::sh -c touch% /tmp/pwned"} {
		if err := checkURL(u, false); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	for _, u := range []string{"/srv/git/envs", "file:///srv/git/envs"} {
		if err := checkURL(u, true); err != nil {
			t.Errorf("%s refused with allow_local: %v", u, err)
		}
	}
	if _, err := Open(Options{Dir: t.TempDir(), Sources: []Source{{Name: "x", URL: "http://host/x"}}}); err == nil {
		t.Error("Open accepted a source over plain http")
	}
}

func TestWebhookBuildsWhatChanged(t *testing.T) {
	g := newGitRepo(t)
	b := &fakeBuilder{}
	s, _ := openService(t, t.TempDir(), g, b, nil)
	first := g.commit("two recipes", map[string]string{"a/Dockerfile": "FROM scratch\n", "b/Dockerfile": "FROM scratch\n", "b/file": "1"})
	res, err := githubPush(t, s, g, strings.Repeat("0", 40), first)
	if err != nil || len(res.Queued) != 2 {
		t.Fatalf("first push: %+v %v, want two builds", res, err)
	}
	waitIdle(t, s)
	second := g.commit("change b's context only", map[string]string{"b/file": "2"})
	res, err = githubPush(t, s, g, first, second)
	if err != nil || len(res.Queued) != 1 || res.Queued[0].Recipe != "b/Dockerfile" {
		t.Fatalf("second push queued %+v %v, want b/Dockerfile only", res.Queued, err)
	}
	// The same delivery again (GitHub redelivers) builds nothing more.
	if res, err := githubPush(t, s, g, first, second); err != nil || len(res.Queued) != 0 {
		t.Fatalf("redelivery queued %+v %v", res.Queued, err)
	}
	list := waitIdle(t, s)
	if got := statuses(list); got["a/Dockerfile"] != "succeeded" || got["b/Dockerfile"] != "succeeded succeeded" {
		t.Errorf("builds %v", got)
	}
	last := list[len(list)-1]
	if last.Commit != second || len(last.Tags) != 4 || last.Tags[0] != second[:12] || last.Tags[2] != "main" || last.Tags[3] != "latest" || last.Digest == "" {
		t.Errorf("last build %+v: want commit %s, tags sha, date, main, latest and a digest", last, second)
	}
	third := g.commit("docs only [skip build]", map[string]string{"a/Dockerfile": "FROM scratch\nLABEL x=y\n"})
	if res, err := githubPush(t, s, g, second, third); err != nil || len(res.Queued) != 0 || !strings.Contains(res.Ignored, "[skip build]") {
		t.Errorf("[skip build] push: %+v %v", res, err)
	}
}

func TestWebhookRefusesBadSignaturesAndQueuesNothing(t *testing.T) {
	g := newGitRepo(t)
	s, _ := openService(t, t.TempDir(), g, &fakeBuilder{}, nil)
	head := g.commit("one recipe", map[string]string{"Dockerfile": "FROM scratch\n"})
	body := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","before":"","after":%q,"repository":{"clone_url":%q}}`, head, g.bare))
	cases := map[string]struct {
		provider string
		h        http.Header
	}{
		"github missing":     {"github", http.Header{"X-Github-Event": {"push"}}},
		"github wrong key":   {"github", http.Header{"X-Github-Event": {"push"}, "X-Hub-Signature-256": {"sha256=" + hmacHex("guess", body)}}},
		"github not hex":     {"github", http.Header{"X-Github-Event": {"push"}, "X-Hub-Signature-256": {"sha256=zz"}}},
		"github sha1 prefix": {"github", http.Header{"X-Github-Event": {"push"}, "X-Hub-Signature-256": {"sha1=" + hmacHex(secret, body)}}},
		"gitlab wrong token": {"gitlab", http.Header{"X-Gitlab-Event": {"Push Hook"}, "X-Gitlab-Token": {"guess"}}},
		"gitea wrong":        {"gitea", http.Header{"X-Gitea-Event": {"push"}, "X-Gitea-Signature": {hmacHex("guess", body)}}},
		"generic missing":    {"generic", http.Header{}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for _, source := range []string{"", "lab"} {
				_, err := s.Webhook(context.Background(), c.provider, source, c.h, body)
				var e *api.Error
				if !errors.As(err, &e) || e.Code != api.CodeUnauthorized {
					t.Errorf("source %q: %v, want UNAUTHORIZED", source, err)
				}
			}
		})
	}
	if list, _ := s.Builds(); len(list) != 0 {
		t.Fatalf("refused deliveries queued %+v", list)
	}
	if h, _ := s.store.head("lab"); h != "" {
		t.Errorf("a refused delivery moved the handled head to %s", h)
	}
	// Each provider's correctly signed delivery is accepted.
	for provider, h := range map[string]http.Header{
		"gitlab":  {"X-Gitlab-Event": {"Push Hook"}, "X-Gitlab-Token": {secret}},
		"gitea":   {"X-Gitea-Event": {"push"}, "X-Gitea-Signature": {hmacHex(secret, body)}},
		"generic": {"X-Oyster-Signature-256": {"sha256=" + hmacHex(secret, body)}},
	} {
		if _, err := s.Webhook(context.Background(), provider, "lab", h, body); err != nil {
			t.Errorf("%s: %v", provider, err)
		}
	}
	if list := waitIdle(t, s); len(list) != 1 {
		t.Errorf("three deliveries of one push built %d times", len(list))
	}
}

func TestWebhookIgnoresOtherBranchesDeletionsAndPings(t *testing.T) {
	g := newGitRepo(t)
	s, _ := openService(t, t.TempDir(), g, &fakeBuilder{}, nil)
	head := g.commit("one recipe", map[string]string{"Dockerfile": "FROM scratch\n"})
	for name, tc := range map[string]struct{ event, body string }{
		"other branch": {"push", fmt.Sprintf(`{"ref":"refs/heads/dev","before":"","after":%q}`, head)},
		"deletion":     {"push", fmt.Sprintf(`{"ref":"refs/heads/main","before":%q,"after":"%s","deleted":true}`, head, strings.Repeat("0", 40))},
		"ping":         {"ping", `{"zen":"Keep it logically awesome."}`},
		"issues":       {"issues", `{}`},
	} {
		h := http.Header{"X-Github-Event": {tc.event}, "X-Hub-Signature-256": {"sha256=" + hmacHex(secret, []byte(tc.body))}}
		res, err := s.Webhook(context.Background(), "github", "lab", h, []byte(tc.body))
		if err != nil || res.Ignored == "" || len(res.Queued) != 0 {
			t.Errorf("%s: %+v %v, want it ignored", name, res, err)
		}
	}
	if list, _ := s.Builds(); len(list) != 0 {
		t.Errorf("ignored deliveries queued %+v", list)
	}
}

func TestBaseCascadeInDependencyOrderWithoutCycles(t *testing.T) {
	g := newGitRepo(t)
	b := &fakeBuilder{}
	s, _ := openService(t, t.TempDir(), g, b, nil)
	from := func(repo string) string { return "FROM " + registryHost + "/" + repo + ":latest\n" }
	head := g.commit("a base, its dependent, and a cycle", map[string]string{
		"base/Dockerfile": "FROM scratch\n",
		"app/Dockerfile":  from("lab/base"),
		"x/Dockerfile":    from("lab/y"),
		"y/Dockerfile":    from("lab/x"),
	})
	if direct := pushQueues(t, s, g, "", head); direct != "base/Dockerfile y/Dockerfile" {
		t.Errorf("the push queued %v, want base and one recipe of the cycle", direct)
	}
	list := waitIdle(t, s)
	if got := statuses(list); len(got) != 4 || got["app/Dockerfile"] != "succeeded" || got["x/Dockerfile"] != "succeeded" || got["y/Dockerfile"] != "succeeded" {
		t.Errorf("builds %v: want each recipe built once", got)
	}
	order := strings.Join(b.builds(), " ")
	if strings.Index(order, "base/") > strings.Index(order, "app/") {
		t.Errorf("built in the order %s: app before its base", order)
	}
	// Rebuilding the base rebuilds its dependent, once.
	if _, err := s.Rebuild(context.Background(), "lab", "base/Dockerfile"); err != nil {
		t.Fatal(err)
	}
	list = waitIdle(t, s)
	if got := statuses(list); got["base/Dockerfile"] != "succeeded succeeded" || got["app/Dockerfile"] != "succeeded succeeded" || got["x/Dockerfile"] != "succeeded" {
		t.Errorf("after rebuilding the base: %v", got)
	}
	if last := list[len(list)-1]; last.Trigger != "base lab/base" {
		t.Errorf("the dependent's trigger is %q", last.Trigger)
	}
}

func TestRetriesOnlyInfrastructureErrors(t *testing.T) {
	g := newGitRepo(t)
	b := &fakeBuilder{
		infra: map[string]int{"flaky/Dockerfile": 1, "down/Dockerfile": 5},
		fail:  map[string]error{"broken/Dockerfile": &recipes.ParseError{Path: "broken/Dockerfile", Line: 2, Msg: "unknown instruction FOO"}},
	}
	s, _ := openService(t, t.TempDir(), g, b, nil)
	head := g.commit("three recipes", map[string]string{"flaky/Dockerfile": "FROM scratch\n", "down/Dockerfile": "FROM scratch\n", "broken/Dockerfile": "FROM scratch\n"})
	if _, err := githubPush(t, s, g, "", head); err != nil {
		t.Fatal(err)
	}
	byRecipe := map[string]api.Build{}
	for _, x := range waitIdle(t, s) {
		byRecipe[x.Recipe] = x
	}
	if f := byRecipe["flaky/Dockerfile"]; f.Status != api.BuildSucceeded || f.Attempt != 2 {
		t.Errorf("flaky: %s after %d attempts, want succeeded after 2", f.Status, f.Attempt)
	}
	if d := byRecipe["down/Dockerfile"]; d.Status != api.BuildFailed || d.Attempt != 2 {
		t.Errorf("down: %s after %d attempts, want failed after 2 (one retry)", d.Status, d.Attempt)
	}
	if br := byRecipe["broken/Dockerfile"]; br.Status != api.BuildFailed || br.Attempt != 1 || br.Error != "broken/Dockerfile:2: unknown instruction FOO" || br.Digest != "" {
		t.Errorf("broken: %+v, want failed once with the line, no digest", br)
	}
}

func TestTimeLimitKillsAndCancelStops(t *testing.T) {
	g := newGitRepo(t)
	b := &fakeBuilder{block: make(chan struct{}), started: make(chan string, 10)}
	s, _ := openService(t, t.TempDir(), g, b, func(o *Options) { o.Timeout = 300 * time.Millisecond })
	head := g.commit("one slow recipe", map[string]string{"slow/Dockerfile": "FROM scratch\n"})
	if _, err := githubPush(t, s, g, "", head); err != nil {
		t.Fatal(err)
	}
	list := waitIdle(t, s)
	if len(list) != 1 || list[0].Status != api.BuildFailed || !strings.Contains(list[0].Error, "time limit") {
		t.Fatalf("the slow build: %+v, want failed past its time limit", list)
	}

	s2, _ := openService(t, t.TempDir(), g, &fakeBuilder{block: make(chan struct{}), started: make(chan string, 10)}, func(o *Options) { o.Concurrency = 1 })
	built, err := s2.Rebuild(context.Background(), "lab", "")
	if err != nil {
		t.Fatal(err)
	}
	queued, err := s2.Rebuild(context.Background(), "lab", "")
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, s2, built[0].ID, api.BuildRunning)
	if b, err := s2.Cancel(queued[0].ID); err != nil || b.Status != api.BuildCancelled {
		t.Errorf("cancelling the queued build: %+v %v", b, err)
	}
	if _, err := s2.Cancel(built[0].ID); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, s2, built[0].ID, api.BuildCancelled)
	if _, err := s2.Cancel(built[0].ID); err == nil {
		t.Error("cancelling a finished build succeeded")
	}
}

func waitStatus(t *testing.T, s *Service, id, status string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		b, err := s.Build(id)
		if err == nil && b.Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("build %s is %+v %v, never %s", id, b, err, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunningBuildAfterKill: a build the last process left "running" (it
// was killed with SIGKILL mid-build) runs again, or fails once it used
// its retries; none stays running, and the queue carries on.
func TestRunningBuildAfterKill(t *testing.T) {
	g := newGitRepo(t)
	head := g.commit("one recipe", map[string]string{"Dockerfile": "FROM scratch\n"})
	dir := t.TempDir()
	st, err := openStore(filepath.Join(dir, "builds.db"))
	if err != nil {
		t.Fatal(err)
	}
	for i, attempt := range []int{1, 2} {
		rec, _, err := st.add(record{Build: api.Build{Source: "lab", Recipe: "Dockerfile", Commit: head, Status: api.BuildQueued}, Key: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		st.update(rec.ID, func(r *record) bool { r.Status, r.Attempt = api.BuildRunning, attempt; return true })
	}
	st.close()
	s, _ := openService(t, dir, g, &fakeBuilder{}, nil) // Retries: 1
	list := waitIdle(t, s)
	if list[0].Status != api.BuildSucceeded || list[0].Attempt != 2 {
		t.Errorf("the build killed on its first attempt: %+v, want run again and succeeded", list[0])
	}
	if list[1].Status != api.BuildFailed || !strings.Contains(list[1].Error, "stopped during the build") {
		t.Errorf("the build killed on its last attempt: %+v, want failed", list[1])
	}
}

func TestFollowLogStreamsUntilTheBuildEnds(t *testing.T) {
	g := newGitRepo(t)
	b := &fakeBuilder{block: make(chan struct{}), started: make(chan string, 1)}
	s, _ := openService(t, t.TempDir(), g, b, nil)
	g.commit("one recipe", map[string]string{"Dockerfile": "FROM scratch\n"})
	built, err := s.Rebuild(context.Background(), "lab", "")
	if err != nil {
		t.Fatal(err)
	}
	<-b.started
	var got strings.Builder
	done := make(chan error)
	go func() {
		done <- s.FollowLog(context.Background(), built[0].ID, true, func(p []byte) error { got.Write(p); return nil })
	}()
	close(b.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.String(), "built Dockerfile") || !strings.Contains(got.String(), "*** succeeded") {
		t.Errorf("followed log:\n%s", got.String())
	}
}

func TestRecipeAtCommit(t *testing.T) {
	g := newGitRepo(t)
	s, _ := openService(t, t.TempDir(), g, &fakeBuilder{}, nil)
	head := g.commit("one recipe", map[string]string{"env/Dockerfile": "FROM debian:12\nRUN apt-get install -y curl && pip install numpy==1.26.4\n"})
	if _, err := s.Rebuild(context.Background(), "lab", ""); err != nil { // fetches
		t.Fatal(err)
	}
	rs, err := s.Recipe("lab", head, "env/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if rs.Base != "debian:12" || len(rs.Packages) != 2 || rs.Packages[1] != (api.DeclaredPackage{Manager: "pip", Name: "numpy", Version: "1.26.4"}) || !strings.HasPrefix(rs.Text, "FROM debian:12") {
		t.Errorf("recipe %+v", rs)
	}
	if rs.CommitURL != "" {
		t.Errorf("a local source has a commit URL %q", rs.CommitURL)
	}
	for _, c := range [][3]string{{"nope", head, "env/Dockerfile"}, {"lab", strings.Repeat("1", 40), "env/Dockerfile"}, {"lab", head, "other/Dockerfile"}} {
		var e *api.Error
		if _, err := s.Recipe(c[0], c[1], c[2]); !errors.As(err, &e) || e.Code != api.CodeNotFound {
			t.Errorf("%v: %v, want NOT_FOUND", c, err)
		}
	}
	if got := commitURL("https://github.com/lab/envs.git", "abc"); got != "https://github.com/lab/envs/commit/abc" {
		t.Errorf("commit URL %q", got)
	}
}

// TestLostDeliveryIsCaughtUp: a push whose webhook never arrived is
// built with the next one, because changes are taken from the last commit
// handled, not from the delivery's before.
func TestLostDeliveryIsCaughtUp(t *testing.T) {
	g := newGitRepo(t)
	s, _ := openService(t, t.TempDir(), g, &fakeBuilder{}, nil)
	first := g.commit("two recipes", map[string]string{"a/Dockerfile": "FROM scratch\n", "b/Dockerfile": "FROM scratch\n"})
	if _, err := githubPush(t, s, g, "", first); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, s)
	lost := g.commit("change a (its delivery is lost)", map[string]string{"a/Dockerfile": "FROM scratch\nLABEL v=2\n"})
	third := g.commit("change b", map[string]string{"b/Dockerfile": "FROM scratch\nLABEL v=2\n"})
	if got := pushQueues(t, s, g, lost, third); got != "a/Dockerfile b/Dockerfile" {
		t.Errorf("queued %v, want both the lost change and the new one", got)
	}
}
