// Package oidctest runs a real OpenID provider in process for tests:
// zitadel's op package serves discovery, JWKS, the token endpoint
// (client credentials and authorization code grants, PKCE S256), RFC 7662
// introspection and a login page over http on 127.0.0.1, and a groups
// endpoint beside them. Tests mint JWT or opaque
// access tokens for users through the real token endpoint.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Options shape the provider's tokens.
type Options struct {
	// UsernameClaim and GroupsClaim name the claims a JWT carries and an
	// introspection answer holds (default preferred_username, groups).
	UsernameClaim, GroupsClaim string
	// Audience is every token's aud unless Mint says otherwise
	// (default "oyster").
	Audience string
}

// User is someone the provider vouches for.
type User struct {
	Username string   // the username claim: alice, or alice@uchicago.edu
	Groups   []string // the groups claim, and what the groups endpoint lists
}

// Mint says what token to make.
type Mint struct {
	User     string   // a Username added with AddUser
	Opaque   bool     // an opaque token checked by introspection; else a JWT
	Audience []string // nil: Options.Audience
	Scopes   []string
	Lifetime time.Duration // 0: 5 minutes
}

// Provider is a running OpenID provider.
type Provider struct {
	// Issuer is the issuer URL (http://127.0.0.1:port).
	Issuer string
	// IntrospectionClientID and IntrospectionSecret are the resource
	// server's credentials for the introspection endpoint.
	IntrospectionClientID, IntrospectionSecret string
	// GroupsURL lists the bearer's groups as Globus Groups' my_groups
	// does (objects with id and name); GroupsURL+"?shape=names" as a
	// plain list of names.
	GroupsURL string

	store  *store
	server *httptest.Server
}

// Start runs a provider until the test ends.
func Start(t testing.TB, opts Options) *Provider {
	t.Helper()
	if opts.UsernameClaim == "" {
		opts.UsernameClaim = "preferred_username"
	}
	if opts.GroupsClaim == "" {
		opts.GroupsClaim = "groups"
	}
	if opts.Audience == "" {
		opts.Audience = "oyster"
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(opts, key)
	p := &Provider{IntrospectionClientID: "oyster-introspect", IntrospectionSecret: randomHex(16), store: s}
	s.clients[p.IntrospectionClientID] = &client{id: p.IntrospectionClientID, secret: p.IntrospectionSecret}
	mux := http.NewServeMux()
	p.server = httptest.NewServer(mux)
	t.Cleanup(p.server.Close)
	p.Issuer, p.GroupsURL = p.server.URL, p.server.URL+"/groups"
	s.issuer = p.Issuer
	var cryptoKey [32]byte
	_, _ = rand.Read(cryptoKey[:])
	provider, err := op.NewProvider(&op.Config{CryptoKey: cryptoKey, AuthMethodPost: true, CodeMethodS256: true}, s, op.StaticIssuer(p.Issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/groups", http.HandlerFunc(p.serveGroups))
	mux.Handle("/login", http.HandlerFunc(p.serveLogin))
	mux.Handle("/", provider)
	return p
}

// Close stops the provider: it no longer answers at all.
func (p *Provider) Close() { p.server.Close() }

// AddUser makes u known.
func (p *Provider) AddUser(u User) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	p.store.users[u.Username] = u
}

// Token mints an access token through the token endpoint (client
// credentials grant of a client made for it) and returns it.
func (p *Provider) Token(t testing.TB, m Mint) string {
	t.Helper()
	if m.Audience == nil {
		m.Audience = []string{p.store.opts.Audience}
	}
	if m.Lifetime == 0 {
		m.Lifetime = 5 * time.Minute
	}
	c := &client{id: "mint-" + randomHex(8), secret: randomHex(16), mint: &m}
	p.store.mu.Lock()
	p.store.clients[c.id] = c
	p.store.mu.Unlock()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {strings.Join(m.Scopes, " ")}}
	req, _ := http.NewRequest(http.MethodPost, p.Issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.id, c.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("token endpoint: %s %v", resp.Status, err)
	}
	p.store.mu.Lock()
	p.store.byValue[body.AccessToken] = c.tokenID
	p.store.mu.Unlock()
	return body.AccessToken
}

// SignJWT signs claims with the provider's key, as a JWT access token
// of its own would be: for tests of claims the token endpoint would not
// put in (another iss, no exp).
func (p *Provider) SignJWT(t testing.TB, claims map[string]any) string {
	t.Helper()
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", p.store.key.id)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: p.store.key.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Revoke makes the provider forget a token it minted: introspection
// answers inactive, the groups endpoint 401.
func (p *Provider) Revoke(token string) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	delete(p.store.tokens, p.store.byValue[token])
}

// GroupsRequests counts the calls of the groups endpoint.
func (p *Provider) GroupsRequests() int {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	return p.store.groupsRequests
}

// IntrospectionRequests counts the calls of the introspection endpoint.
func (p *Provider) IntrospectionRequests() int {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	return p.store.introspections
}

// serveGroups answers the bearer's groups, for live tokens it minted.
func (p *Provider) serveGroups(w http.ResponseWriter, r *http.Request) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.store.mu.Lock()
	p.store.groupsRequests++
	tok, ok := p.store.tokens[p.store.byValue[token]]
	var groups []string
	if ok && time.Now().Before(tok.exp) {
		groups = p.store.users[tok.subject].Groups
	}
	p.store.mu.Unlock()
	if !ok {
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Query().Get("shape") == "names" {
		_ = json.NewEncoder(w).Encode(append([]string{}, groups...))
		return
	}
	type membership struct {
		Role string `json:"role"`
	}
	type group struct {
		ID            string       `json:"id"`
		Name          string       `json:"name"`
		MyMemberships []membership `json:"my_memberships"`
	}
	out := []group{}
	for _, g := range groups {
		out = append(out, group{ID: g, Name: "Group " + g, MyMemberships: []membership{{Role: "member"}}})
	}
	_ = json.NewEncoder(w).Encode(out)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
