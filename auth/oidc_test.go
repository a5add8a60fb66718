package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/oyster-registry/oyster/auth/oidctest"
)

// oidcFixture is the auth fixture with a real OpenID provider in process.
// Its clock starts at the real time: the provider stamps tokens with it.
func oidcFixture(t testing.TB, p *oidctest.Provider, edit func(*OIDCOptions)) *fixture {
	t.Helper()
	f := newFixture(t, nil)
	f.clock.t = time.Now()
	opts := f.svc.opts
	opts.MaxFailedLogins = 100 // the refusal tests fail many times from one address
	opts.Policy.Namespaces = map[string]NamespaceRules{"lab": {Private: true, Groups: map[string]Role{"lab-writers": RoleWrite, "lab-readers": RoleRead}}}
	opts.OIDC = &OIDCOptions{
		Issuer: p.Issuer, Audience: "oyster", UsernameClaim: "preferred_username", GroupsClaim: "groups",
		ClientID: p.IntrospectionClientID, ClientSecret: p.IntrospectionSecret,
		CacheTTL: time.Minute, CacheSize: 100, DiscoveryTimeout: 5 * time.Second,
	}
	if edit != nil {
		edit(opts.OIDC)
	}
	svc, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

func startProvider(t testing.TB) *oidctest.Provider {
	p := oidctest.Start(t, oidctest.Options{})
	p.AddUser(oidctest.User{Username: "walt", Groups: []string{"lab-writers"}})
	p.AddUser(oidctest.User{Username: "rita", Groups: []string{"lab-readers"}})
	p.AddUser(oidctest.User{Username: "Alice@UChicago.edu"})
	return p
}

// granted logs in at the realm with the token as the password and says
// which of the scopes' actions the registry token carries.
func (f *fixture) granted(t *testing.T, user, password string, access ...Access) []string {
	t.Helper()
	var scopes []string
	for _, a := range access {
		scopes = append(scopes, "repository:"+a.Name+":"+a.Action)
	}
	code, token := f.login(t, user, password, scopes...)
	if code != http.StatusOK {
		return []string{"login " + http.StatusText(code)}
	}
	var got []string
	for _, a := range access {
		if f.authorize(token, a) == nil {
			got = append(got, a.Name+":"+a.Action)
		}
	}
	return got
}

// TestOIDCTokensAsPasswords: JWT and opaque access tokens log in at the
// realm with any username; group members get their role's actions.
func TestOIDCTokensAsPasswords(t *testing.T) {
	p := startProvider(t)
	f := oidcFixture(t, p, nil)
	for _, opaque := range []bool{false, true} {
		walt := p.Token(t, oidctest.Mint{User: "walt", Opaque: opaque})
		rita := p.Token(t, oidctest.Mint{User: "rita", Opaque: opaque})
		access := []Access{push("walt/tools"), push("lab/code"), pull("lab/code"), push("rita/x")}
		if got := f.granted(t, "oauth2accesstoken", walt, access...); !slices.Equal(got, []string{"walt/tools:push", "lab/code:push", "lab/code:pull"}) {
			t.Errorf("opaque %v: walt (lab-writers) was granted %v", opaque, got)
		}
		if got := f.granted(t, "rita", rita, access...); !slices.Equal(got, []string{"lab/code:pull", "rita/x:push"}) {
			t.Errorf("opaque %v: rita (lab-readers) was granted %v", opaque, got)
		}
		r := httptest.NewRequest(http.MethodGet, "/api/v1/search", nil)
		r.Header.Set("Authorization", "Bearer "+walt)
		if id, err := f.svc.Identify(r); err != nil || id.Name != "walt" || !slices.Equal(id.Groups, []string{"lab-writers"}) {
			t.Errorf("opaque %v: Identify with a bearer token: %+v %v", opaque, id, err)
		}
	}
	// htpasswd users still log in with their passwords, and a user with
	// an htpasswd entry may still use a token.
	if got := f.granted(t, "alice", passwords["alice"], push("alice/x")); !slices.Equal(got, []string{"alice/x:push"}) {
		t.Errorf("htpasswd beside OIDC: %v", got)
	}
	if got := f.granted(t, "alice", p.Token(t, oidctest.Mint{User: "walt"}), push("walt/x")); !slices.Equal(got, []string{"walt/x:push"}) {
		t.Errorf("a token sent with an htpasswd username: %v", got)
	}
}

// TestOIDCAdminsApart: the provider's "admin" is no site admin (auth.admins
// names htpasswd users); auth.oidc.admins makes OIDC users admins.
func TestOIDCAdminsApart(t *testing.T) {
	p := startProvider(t)
	p.AddUser(oidctest.User{Username: "admin"})
	f := oidcFixture(t, p, func(o *OIDCOptions) { o.Admins = []string{"walt"} })
	for user, want := range map[string]bool{"admin": false, "walt": true} {
		id, err := f.svc.IdentifyToken(context.Background(), p.Token(t, oidctest.Mint{User: user}))
		if err != nil || id.Admin != want {
			t.Errorf("OIDC user %s: %+v %v, want admin %v", user, id, err, want)
		}
	}
	if got := f.granted(t, "admin", passwords["admin"], push("anyone/x")); !slices.Equal(got, []string{"anyone/x:push"}) {
		t.Errorf("the htpasswd admin lost its rights beside OIDC: %v", got)
	}
}

// TestOIDCTokensRefused: each bad token is refused at the realm (401) and
// by Identify, and no secret reaches the log.
func TestOIDCTokensRefused(t *testing.T) {
	p := startProvider(t)
	other := oidctest.Start(t, oidctest.Options{})
	other.AddUser(oidctest.User{Username: "walt"})
	f := oidcFixture(t, p, nil)
	now := f.clock.t
	claims := map[string]any{"iss": p.Issuer, "sub": "walt", "aud": "oyster", "exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "preferred_username": "walt"}
	rogue, _ := rsa.GenerateKey(rand.Reader, 2048)
	revoked := p.Token(t, oidctest.Mint{User: "walt", Opaque: true})
	p.Revoke(revoked)
	p.AddUser(oidctest.User{Username: "bad name"})
	cases := map[string]string{
		"another provider (JWT)":    other.Token(t, oidctest.Mint{User: "walt"}),
		"wrong issuer, our key":     p.SignJWT(t, withClaim(claims, "iss", other.Issuer)),
		"no exp":                    p.SignJWT(t, withClaim(claims, "exp", nil)),
		"another provider (opaque)": other.Token(t, oidctest.Mint{User: "walt", Opaque: true}),
		"wrong audience (JWT)":      p.Token(t, oidctest.Mint{User: "walt", Audience: []string{"another-service"}}),
		"wrong audience (opaque)":   p.Token(t, oidctest.Mint{User: "walt", Opaque: true, Audience: []string{"another-service"}}),
		"alg none":                  forgeJWT(t, "none", nil, "", claims),
		"alg HS256":                 forgeJWT(t, "HS256", []byte(p.IntrospectionSecret), "", claims),
		"unknown key":               forgeJWT(t, "RS256", rogue, "rogue-kid", claims),
		"revoked opaque":            revoked,
		"not a token":               "not-a-token",
		"username not a namespace":  p.Token(t, oidctest.Mint{User: "bad name"}),
	}
	shortLived := p.Token(t, oidctest.Mint{User: "walt", Lifetime: time.Minute})
	shortOpaque := p.Token(t, oidctest.Mint{User: "walt", Lifetime: time.Minute, Opaque: true})
	for name, token := range cases {
		if code, _ := f.login(t, "oauth2accesstoken", token); code != http.StatusUnauthorized {
			t.Errorf("%s: realm answered %d", name, code)
		}
	}
	// Expired: by the registry's clock, after the provider's exp.
	f.clock.t = now.Add(2 * time.Minute)
	for name, token := range map[string]string{"expired JWT": shortLived, "expired opaque": shortOpaque} {
		if _, err := f.svc.IdentifyToken(context.Background(), token); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	secrets := []string{p.IntrospectionSecret, shortLived, shortOpaque}
	for _, token := range cases {
		secrets = append(secrets, token)
	}
	log := f.log.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(log, s) {
			t.Errorf("the log holds a secret: %.20s…", s)
		}
	}
	for _, want := range []string{"different provider", "not meant for this registry", "not active", "cannot name a namespace", "failed to verify signature"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not say %q:\n%s", want, log)
		}
	}
}

func withClaim(claims map[string]any, name string, value any) map[string]any {
	out := map[string]any{}
	for k, v := range claims {
		out[k] = v
	}
	out[name] = value
	if value == nil {
		delete(out, name)
	}
	return out
}

// forgeJWT signs claims with a key of the test's choosing; alg none is
// written by hand (go-jose refuses to make one).
func forgeJWT(t *testing.T, alg string, key any, kid string, claims map[string]any) string {
	t.Helper()
	body, _ := json.Marshal(claims)
	if alg == "none" {
		return b64.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64.EncodeToString(body) + "."
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// TestOIDCGroupsAndUsernames: groups from a claim or from the groups
// endpoint (Globus' my_groups shape, or a list of names); usernames
// mapped to namespace names.
func TestOIDCGroupsAndUsernames(t *testing.T) {
	p := startProvider(t)
	ctx := context.Background()
	fromEndpoint := oidcFixture(t, p, func(o *OIDCOptions) { o.GroupsClaim, o.GroupsURL = "", p.GroupsURL })
	names := oidcFixture(t, p, func(o *OIDCOptions) { o.GroupsClaim, o.GroupsURL = "", p.GroupsURL+"?shape=names" })
	strip := oidcFixture(t, p, func(o *OIDCOptions) { o.UsernameDomain = "strip"; o.GroupsClaim = "" })
	replace := oidcFixture(t, p, nil)
	for _, opaque := range []bool{false, true} {
		walt := p.Token(t, oidctest.Mint{User: "walt", Opaque: opaque})
		for name, f := range map[string]*fixture{"endpoint": fromEndpoint, "names": names, "claim": replace} {
			id, err := f.svc.IdentifyToken(ctx, walt)
			if err != nil || !slices.Equal(id.Groups, []string{"lab-writers"}) {
				t.Errorf("opaque %v, groups from %s: %+v %v", opaque, name, id, err)
			}
		}
		if id, _ := strip.svc.IdentifyToken(ctx, walt); id.Groups != nil {
			t.Errorf("no groups claim, no groups URL, yet groups %v", id.Groups)
		}
		alice := p.Token(t, oidctest.Mint{User: "Alice@UChicago.edu", Opaque: opaque})
		if id, err := replace.svc.IdentifyToken(ctx, alice); err != nil || id.Name != "alice-uchicago.edu" {
			t.Errorf("replace: %q %v", id.Name, err)
		}
		if id, err := strip.svc.IdentifyToken(ctx, alice); err != nil || id.Name != "alice" {
			t.Errorf("strip: %q %v", id.Name, err)
		}
	}
	if p.GroupsRequests() == 0 {
		t.Error("the groups endpoint was never asked")
	}
	for raw, want := range map[string]string{"bob": "bob", "a.b_c-d": "a.b_c-d", "x@y.org": "x-y.org"} {
		if got, err := namespaceUsername(raw, "replace"); got != want || err != nil {
			t.Errorf("%q → %q %v, want %q", raw, got, err, want)
		}
	}
	for _, bad := range []string{"", "-bob", "bob-", "a b", "a/b", "ü", strings.Repeat("a", 65), "a@b@c"} {
		if got, err := namespaceUsername(bad, "replace"); err == nil {
			t.Errorf("%q accepted as %q", bad, got)
		}
	}
}

// TestOIDCCache: a checked token is not checked again until the cache's
// ttl; the cache holds at most cache_size tokens; a revoked token is
// refused once its cached check has lapsed.
func TestOIDCCache(t *testing.T) {
	p := startProvider(t)
	f := oidcFixture(t, p, func(o *OIDCOptions) { o.CacheSize = 2 })
	ctx := context.Background()
	token := p.Token(t, oidctest.Mint{User: "walt", Opaque: true})
	for range 3 {
		if _, err := f.svc.IdentifyToken(ctx, token); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.IntrospectionRequests(); n != 1 {
		t.Errorf("%d introspections for three checks of one token", n)
	}
	if s := f.svc.OIDCCacheStats(); s.Hits != 2 || s.Misses != 1 {
		t.Errorf("stats %+v", s)
	}
	// Parallel first checks of one token share one introspection.
	parallel := p.Token(t, oidctest.Mint{User: "rita", Opaque: true})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := f.svc.IdentifyToken(ctx, parallel); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := p.IntrospectionRequests(); n > 2 {
		t.Errorf("%d introspections for 8 parallel checks of one new token", n-1)
	}
	f.svc.IdentifyToken(ctx, p.Token(t, oidctest.Mint{User: "rita", Opaque: true}))
	if s := f.svc.OIDCCacheStats(); s.Entries != 2 || s.Evictions != 1 {
		t.Errorf("bounded to 2: %+v", s)
	}
	p.Revoke(token)
	f.clock.t = f.clock.t.Add(time.Minute) // the cache_ttl
	if _, err := f.svc.IdentifyToken(ctx, token); err == nil {
		t.Error("a revoked token was accepted after the cache ttl")
	}
}

// TestOIDCScopeInsteadOfAudience: with auth.oidc.scope, a token for
// another audience is accepted when its scope names the registry.
func TestOIDCScopeInsteadOfAudience(t *testing.T) {
	p := startProvider(t)
	const scope = "urn:globus:auth:scope:registry.example.org:all"
	f := oidcFixture(t, p, func(o *OIDCOptions) { o.Audience, o.Scope = "", scope })
	for _, opaque := range []bool{false, true} {
		with := p.Token(t, oidctest.Mint{User: "walt", Opaque: opaque, Audience: []string{"transfer"}, Scopes: []string{"openid", scope}})
		without := p.Token(t, oidctest.Mint{User: "walt", Opaque: opaque, Audience: []string{"transfer"}, Scopes: []string{"openid"}})
		if _, err := f.svc.IdentifyToken(context.Background(), with); err != nil {
			t.Errorf("opaque %v, with the scope: %v", opaque, err)
		}
		if _, err := f.svc.IdentifyToken(context.Background(), without); err == nil {
			t.Errorf("opaque %v: a token without the scope was accepted", opaque)
		}
	}
}

// TestOIDCBadConfig: a provider that cannot be discovered fails the
// start after the bounded retry; so do missing audience and bad options.
func TestOIDCBadConfig(t *testing.T) {
	p := startProvider(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	for name, edit := range map[string]func(*OIDCOptions){
		"provider down":        func(o *OIDCOptions) { o.Issuer, o.DiscoveryTimeout = dead.URL, time.Second },
		"no audience or scope": func(o *OIDCOptions) { o.Audience = "" },
		"bad username_domain":  func(o *OIDCOptions) { o.UsernameDomain = "keep" },
		"no cache":             func(o *OIDCOptions) { o.CacheSize = 0 },
	} {
		f := newFixture(t, nil)
		opts := f.svc.opts
		opts.OIDC = &OIDCOptions{Issuer: p.Issuer, Audience: "oyster", UsernameClaim: "preferred_username", CacheTTL: time.Minute, CacheSize: 10, DiscoveryTimeout: time.Second}
		edit(opts.OIDC)
		if _, err := New(opts); err == nil {
			t.Errorf("%s: the service started", name)
		}
	}
}

// TestOIDCProviderDown: a token that cannot be checked because the
// provider is down is answered 503, not 401, and counts no failed login;
// Identify says so too.
func TestOIDCProviderDown(t *testing.T) {
	p := startProvider(t)
	f := oidcFixture(t, p, nil)
	cached := p.Token(t, oidctest.Mint{User: "walt", Opaque: true})
	if _, err := f.svc.IdentifyToken(context.Background(), cached); err != nil {
		t.Fatal(err)
	}
	unchecked := p.Token(t, oidctest.Mint{User: "rita", Opaque: true})
	p.Close()
	for range f.svc.opts.MaxFailedLogins + 1 {
		if code, _ := f.login(t, "rita", unchecked); code != http.StatusServiceUnavailable {
			t.Fatalf("provider down: %d, want 503", code)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/api/v1/search", nil)
	r.Header.Set("Authorization", "Bearer "+unchecked)
	if _, err := f.svc.Identify(r); !errors.Is(err, ErrProviderUnavailable) || !errors.Is(err, ErrBadCredentials) {
		t.Errorf("Identify with the provider down: %v", err)
	}
	login := httptest.NewRequest(http.MethodPost, "/login", nil)
	if _, err := f.svc.Login(httptest.NewRecorder(), login, "rita", unchecked); !errors.Is(err, ErrProviderUnavailable) {
		t.Errorf("web login with the provider down: %v", err)
	}
	// A token checked before the outage still works from the cache.
	if code, _ := f.login(t, "walt", cached); code != http.StatusOK {
		t.Errorf("a cached token during the outage: %d", code)
	}
}
