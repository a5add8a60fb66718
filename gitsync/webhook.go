package gitsync

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/oyster-registry/oyster/api"
)

// push is what every provider's push payload comes down to.
type push struct {
	Ref     string
	Before  string
	Deleted bool
	URLs    []string // the repository's URLs, to find the source
}

// Webhook handles one delivery from provider (github, gitlab, gitea or
// generic). source, if not empty, names the source; otherwise the
// payload's repository URL finds it. The signature (or GitLab's token) is
// checked against the source's secret before anything else is done with
// the payload: a forged delivery changes nothing.
func (s *Service) Webhook(ctx context.Context, provider, source string, h http.Header, body []byte) (api.WebhookResult, error) {
	if r := s.repos[source]; r != nil { // named: check before reading the body
		if err := verify(provider, h, body, r.src.WebhookSecret); err != nil {
			return api.WebhookResult{}, err
		}
	}
	event, p, err := parsePush(provider, h, body)
	if err != nil {
		return api.WebhookResult{}, err
	}
	r := s.findSource(source, p.URLs)
	if r == nil {
		// Said the same way whether or not a source matched: a caller
		// without the secret learns nothing.
		return api.WebhookResult{}, unauthorized("no source accepts this delivery with this signature")
	}
	if err := verify(provider, h, body, r.src.WebhookSecret); err != nil {
		return api.WebhookResult{}, err
	}
	res := api.WebhookResult{Source: r.src.Name, Queued: []api.Build{}}
	switch {
	case event == "ping":
		res.Ignored = "ping"
		return res, nil
	case event != "push":
		res.Ignored = "event " + event + " is not a push"
		return res, nil
	case p.Ref != "" && p.Ref != "refs/heads/"+r.src.Branch:
		res.Ignored = fmt.Sprintf("ref %s is not branch %s", p.Ref, r.src.Branch)
		return res, nil
	case p.Deleted:
		res.Ignored = "branch deleted"
		return res, nil
	}
	queued, ignored, err := s.sync(ctx, r, p.Before, "push")
	if err != nil {
		return res, err
	}
	if queued != nil {
		res.Queued = queued
	}
	res.Ignored = ignored
	return res, nil
}

func unauthorized(msg string) error { return &api.Error{Code: api.CodeUnauthorized, Message: msg} }

func invalid(format string, args ...any) error {
	return &api.Error{Code: api.CodeInvalidRequest, Message: fmt.Sprintf(format, args...)}
}

func (s *Service) findSource(name string, urls []string) *repo {
	if name != "" {
		return s.repos[name]
	}
	for _, n := range s.order {
		for _, u := range urls {
			if s.repos[n].src.sameRepository(u) {
				return s.repos[n]
			}
		}
	}
	return nil
}

// verify checks a delivery's signature or token in constant time. A
// source without a secret accepts no webhook.
func verify(provider string, h http.Header, body []byte, secret string) error {
	if secret == "" {
		return unauthorized("the source has no webhook_secret; it accepts no webhooks")
	}
	var header, prefix string
	switch provider {
	case "gitlab":
		if subtle.ConstantTimeCompare([]byte(h.Get("X-Gitlab-Token")), []byte(secret)) != 1 {
			return unauthorized("X-Gitlab-Token is missing or wrong")
		}
		return nil
	case "github":
		header, prefix = "X-Hub-Signature-256", "sha256="
	case "gitea":
		header = "X-Gitea-Signature"
	default:
		header, prefix = "X-Oyster-Signature-256", "sha256="
	}
	got, ok := strings.CutPrefix(h.Get(header), prefix)
	sig, err := hex.DecodeString(got)
	if !ok || err != nil || got == "" {
		return unauthorized(header + " is missing or malformed")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return unauthorized(header + " does not match the body")
	}
	return nil
}

// parsePush reads the event name and push payload of a provider.
func parsePush(provider string, h http.Header, body []byte) (string, push, error) {
	var p push
	var event string
	switch provider {
	case "github", "gitea", "generic":
		var m struct {
			Ref, Before, After string
			Deleted            bool
			Repository         struct {
				CloneURL string `json:"clone_url"`
				SSHURL   string `json:"ssh_url"`
				HTMLURL  string `json:"html_url"`
				GitURL   string `json:"git_url"`
			}
		}
		event = h.Get("X-GitHub-Event")
		if provider == "gitea" {
			event = h.Get("X-Gitea-Event")
		}
		if provider == "generic" {
			event = "push"
		}
		if err := json.Unmarshal(body, &m); err != nil {
			return "", p, invalid("the %s payload is not JSON: %v", provider, err)
		}
		p = push{Ref: m.Ref, Before: m.Before, Deleted: m.Deleted || isZero(m.After),
			URLs: []string{m.Repository.CloneURL, m.Repository.SSHURL, m.Repository.HTMLURL, m.Repository.GitURL}}
	case "gitlab":
		var m struct {
			Ref, Before, After string
			Project            struct {
				HTTP string `json:"git_http_url"`
				SSH  string `json:"git_ssh_url"`
				Web  string `json:"web_url"`
			}
		}
		event = "push"
		if e := h.Get("X-Gitlab-Event"); e != "Push Hook" {
			event = e
		}
		if err := json.Unmarshal(body, &m); err != nil {
			return "", p, invalid("the gitlab payload is not JSON: %v", err)
		}
		p = push{Ref: m.Ref, Before: m.Before, Deleted: isZero(m.After), URLs: []string{m.Project.HTTP, m.Project.SSH, m.Project.Web}}
	default:
		return "", p, &api.Error{Code: api.CodeNotFound, Message: fmt.Sprintf("no webhook for %q (github, gitlab, gitea, generic)", provider)}
	}
	if event == "" {
		return "", p, invalid("the delivery names no event")
	}
	return event, p, nil
}

// isZero says whether a commit id is all zeros (a deleted branch); an
// empty one is not (a generic hook may give no commits).
func isZero(sha string) bool { return sha != "" && strings.Trim(sha, "0") == "" }
