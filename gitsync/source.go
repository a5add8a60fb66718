package gitsync

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
)

// Source is one tracked repository (config sources[]).
type Source struct {
	Name          string
	URL           string
	Branch        string
	WebhookSecret string
	PollInterval  time.Duration
	Token         string
	SSHKey        string
	Builder       string
}

// scpLike is git's user@host:path form of ssh URLs.
var scpLike = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/]`)

// checkURL refuses URLs of schemes Oyster does not fetch: https and ssh
// always, local paths (and file://) only when allowLocal.
func checkURL(raw string, allowLocal bool) error {
	if scpLike.MatchString(raw) {
		return nil
	}
	if filepath.IsAbs(raw) || strings.HasPrefix(raw, "file://") {
		if !allowLocal {
			return fmt.Errorf("url %s is a local path; set gitsync.allow_local: true to allow it", raw)
		}
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url %q: %w", raw, err)
	}
	switch u.Scheme {
	case "https", "ssh":
		return nil
	case "":
		return fmt.Errorf("url %s is neither an https or ssh URL nor an absolute path", raw)
	}
	return fmt.Errorf("url %s: scheme %s is not allowed (https, ssh, or a local path)", raw, u.Scheme)
}

// auth is how go-git authenticates to the source.
func (s Source) auth() (transport.AuthMethod, error) {
	switch {
	case s.Token != "":
		return &githttp.BasicAuth{Username: "oyster", Password: s.Token}, nil
	case s.SSHKey != "":
		return gitssh.NewPublicKeysFromFile("git", s.SSHKey, "")
	}
	return nil, nil
}

// sameRepository says whether a URL a webhook names is this source's
// (ignoring a trailing .git or slash, and the scheme).
func (s Source) sameRepository(u string) bool {
	norm := func(x string) string {
		x = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(x), "/"), ".git")
		if i := strings.Index(x, "://"); i >= 0 {
			x = x[i+3:]
		}
		return strings.ToLower(x)
	}
	return u != "" && norm(u) == norm(s.URL)
}
