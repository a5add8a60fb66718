package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oyster-registry/oyster/auth"
)

// A registry token names its subject and its scopes, not who the subject
// is (a robot's grants, an OIDC user's groups), and /v2/_catalog needs
// that to list what the caller may pull. So when the realm issues a token
// to a request asking for the catalog scope, the identity behind the
// request's credentials is kept for the token's lifetime.

// maxCatalogTokens bounds the identities kept; past it, the oldest go,
// and their holders are sent to the realm again.
const maxCatalogTokens = 10000

// catalogScope is how clients ask the realm for /v2/_catalog.
const catalogScope = "registry:catalog:*"

// tokenIdentities maps the sha256 of catalog tokens to identities.
type tokenIdentities struct {
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	m     map[[32]byte]tokenIdentity
	order [][32]byte // oldest first
}

type tokenIdentity struct {
	id      auth.Identity
	expires time.Time
}

func newTokenIdentities(ttl time.Duration) *tokenIdentities {
	return &tokenIdentities{ttl: ttl, now: time.Now, m: map[[32]byte]tokenIdentity{}}
}

func (t *tokenIdentities) put(token string, id auth.Identity) {
	key := sha256.Sum256([]byte(token))
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.m[key]; !dup {
		t.order = append(t.order, key)
	}
	t.m[key] = tokenIdentity{id: id, expires: t.now().Add(t.ttl)}
	t.sweepLocked()
	for len(t.order) > maxCatalogTokens {
		delete(t.m, t.order[0])
		t.order = t.order[1:]
	}
}

// get returns the identity a live token was issued to.
func (t *tokenIdentities) get(token string) (auth.Identity, bool) {
	key := sha256.Sum256([]byte(token))
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[key]
	if !ok || t.now().After(e.expires) {
		return auth.Identity{}, false
	}
	return e.id, true
}

// sweepLocked forgets expired tokens (the oldest come first); put calls
// it, so the map holds at most one lifetime's tokens.
func (t *tokenIdentities) sweepLocked() {
	now := t.now()
	i := 0
	for i < len(t.order) && now.After(t.m[t.order[i]].expires) {
		delete(t.m, t.order[i])
		i++
	}
	t.order = t.order[i:]
}

// serveRealm is the token service, recording who each catalog token was
// issued to.
func (s *Server) serveRealm(w http.ResponseWriter, r *http.Request) {
	rec := &bodyRecorder{ResponseWriter: w}
	s.auth.ServeToken(rec, r) // parses the form
	if rec.code != http.StatusOK || !asksScope(r.Form["scope"], catalogScope) {
		return
	}
	var answer struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(rec.body.Bytes(), &answer) != nil || answer.Token == "" {
		return
	}
	id, err := s.realmCaller(r)
	if err != nil {
		s.log.Warn("catalog token: the realm's caller could not be identified again", "err", err)
		return
	}
	s.catalogTokens.put(answer.Token, id)
}

// realmCaller is the identity behind the credentials the realm accepted:
// Basic, or an OAuth2 password grant; none is anonymous.
func (s *Server) realmCaller(r *http.Request) (auth.Identity, error) {
	creds := r.Clone(r.Context())
	creds.Header.Del("Cookie") // the realm reads no sessions
	if _, _, basic := r.BasicAuth(); !basic {
		creds.Header.Del("Authorization")
		if r.Method != http.MethodPost || r.PostForm.Get("grant_type") != "password" {
			return auth.Identity{}, nil
		}
		creds.SetBasicAuth(r.PostForm.Get("username"), r.PostForm.Get("password"))
	}
	return s.auth.Identify(creds)
}

// asksScope reports whether the scope parameters (each may hold several,
// space-separated) include scope.
func asksScope(params []string, scope string) bool {
	return slices.ContainsFunc(params, func(p string) bool { return slices.Contains(strings.Fields(p), scope) })
}

// bodyRecorder passes a response through and keeps a copy of it.
type bodyRecorder struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (b *bodyRecorder) WriteHeader(code int) {
	b.code = code
	b.ResponseWriter.WriteHeader(code)
}

func (b *bodyRecorder) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	b.body.Write(p)
	return b.ResponseWriter.Write(p)
}
