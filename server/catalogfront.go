package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/distribution/distribution/v3/registry/api/errcode"
	"github.com/distribution/distribution/v3/registry/storage/driver"

	"github.com/oyster-registry/oyster/auth"
)

// With auth on, /v2/_catalog answers everyone, anonymous callers
// included, with the repositories they may pull, instead of the whole
// registry to admins only. Oyster serves it in the /v2/ front, with
// distribution's paging (n, last, a Link to the next page).

const (
	// catalogDefaultEntries is distribution's page when n is not given.
	catalogDefaultEntries = 100
	// catalogScanPages bounds the work of one request: at most this many
	// pages of repositories are read from storage, and a caller who may
	// pull few of them gets a shorter page with a Link to go on.
	catalogScanPages = 10
)

// serveCatalog answers GET /v2/_catalog for whoever sent it.
func (s *Server) serveCatalog(w http.ResponseWriter, r *http.Request) {
	id, err := s.catalogCaller(r)
	if errors.Is(err, auth.ErrProviderUnavailable) { // not the caller's fault
		writeOCIError(w, errcode.ErrorCodeUnavailable.WithMessage("the identity provider could not check the credentials; try again later"))
		return
	}
	if err != nil {
		var c *auth.Challenge
		if errors.As(err, &c) {
			c.SetHeaders(r, w)
		} else {
			w.Header().Set("WWW-Authenticate", `Basic realm="oyster"`)
		}
		writeOCIError(w, errcode.ErrorCodeUnauthorized.WithDetail(nil))
		return
	}
	n, err := catalogPageSize(r.URL.Query().Get("n"), registryCatalogMaxEntries)
	if err != nil {
		writeOCIError(w, err)
		return
	}
	repos, next, err := s.visibleRepositories(r.Context(), r.URL.Query().Get("last"), n, func(repo string) bool { return s.auth.MayPull(id, repo) })
	if err != nil {
		writeOCIError(w, errcode.ErrorCodeUnknown.WithDetail(err))
		return
	}
	if next != "" {
		v := url.Values{"n": {strconv.Itoa(n)}, "last": {next}}
		w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, r.URL.Path, v.Encode()))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		Repositories []string `json:"repositories"`
	}{repos})
}

// catalogCaller is who asks: the identity behind a registry token the
// realm issued for the catalog, or the credentials sent directly (Basic,
// a robot or OIDC token, a session), or anonymous. A registry token the
// realm issued for something else gets a challenge for the catalog.
func (s *Server) catalogCaller(r *http.Request) (auth.Identity, error) {
	if token, ok := bearerToken(r); ok {
		id, known := s.catalogTokens.get(token)
		if _, err := s.auth.Authorize(r, nil); err == nil {
			if known {
				return id, nil
			}
			return auth.Identity{}, s.catalogChallenge(r)
		}
	}
	return s.auth.Identify(r)
}

// catalogChallenge is the challenge an anonymous request for the catalog
// would get, marked insufficient_scope: it sends the client to the realm
// for a catalog token.
func (s *Server) catalogChallenge(r *http.Request) error {
	anonymous := r.Clone(r.Context())
	anonymous.Header.Del("Authorization")
	_, err := s.auth.Authorize(anonymous, catalogAccess)
	var c *auth.Challenge
	if errors.As(err, &c) {
		c.Code = "insufficient_scope"
		return c
	}
	return auth.ErrBadCredentials
}

// catalogPageSize reads n as distribution does: 100 when absent, and
// more than max refused.
func catalogPageSize(param string, maxEntries int) (int, error) {
	if param == "" {
		return min(catalogDefaultEntries, maxEntries), nil
	}
	n, err := strconv.Atoi(param)
	if err != nil || n < 0 || n > maxEntries {
		return 0, errcode.ErrorCodePaginationNumberInvalid.WithDetail(map[string]string{"n": param})
	}
	return n, nil
}

// visibleRepositories reads repositories after last in order and keeps
// up to n that visible accepts. next, when not empty, is where the
// following page starts: more may follow, or the scan budget ran out.
func (s *Server) visibleRepositories(ctx context.Context, last string, n int, visible func(string) bool) (repos []string, next string, err error) {
	return visiblePage(func(buf []string, last string) (int, error) { return s.namespace.Repositories(ctx, buf, last) }, last, n, visible)
}

// visiblePage is visibleRepositories over list, which reads repositories
// after last into buf as distribution's Namespace.Repositories does
// (io.EOF, or a missing path, at the end).
func visiblePage(list func(buf []string, last string) (int, error), last string, n int, visible func(string) bool) (repos []string, next string, err error) {
	repos = []string{}
	if n == 0 {
		return repos, "", nil
	}
	buf := make([]string, n)
	for range catalogScanPages {
		filled, err := list(buf, last)
		end := err != nil
		if end && !errors.Is(err, io.EOF) && !errors.As(err, &driver.PathNotFoundError{}) {
			return nil, "", err
		}
		for _, repo := range buf[:filled] {
			last = repo
			if visible(repo) {
				repos = append(repos, repo)
				if len(repos) == n {
					return repos, continueAfter(last, end && repo == buf[filled-1]), nil
				}
			}
		}
		if end || filled == 0 {
			return repos, "", nil
		}
	}
	return repos, last, nil
}

// continueAfter is the next page's start, or "" when nothing follows.
func continueAfter(last string, atEnd bool) string {
	if atEnd {
		return ""
	}
	return last
}

func bearerToken(r *http.Request) (string, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return token, ok && token != ""
}
