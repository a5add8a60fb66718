package auth

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/sync/singleflight"
)

// OIDCOptions configure logins with access tokens of an OpenID Connect
// provider: JWTs checked against its published keys, opaque tokens
// (Globus Auth's) by RFC 7662 introspection.
type OIDCOptions struct {
	// Issuer is the provider's issuer URL; discovery reads
	// Issuer/.well-known/openid-configuration.
	Issuer string
	// Audience is accepted in a token's aud; Scope, if set, is accepted
	// in its scope instead (providers that put the resource server in
	// the scope, as Globus Auth does). One of them must be set.
	Audience, Scope string
	// UsernameClaim and GroupsClaim name the claims holding the username
	// and the groups (a list of strings); GroupsClaim may be empty.
	UsernameClaim, GroupsClaim string
	// UsernameDomain says what becomes of "@domain" in a username:
	// "replace" (the default: alice@uchicago.edu → alice-uchicago.edu) or
	// "strip" (→ alice; only where every user shares one domain).
	UsernameDomain string
	// GroupsURL, if set, is asked for the user's groups (GET with the
	// token): a JSON list of strings, or of objects whose GroupsField
	// (default "id") is the group (Globus Groups' my_groups).
	GroupsURL, GroupsField string
	// IntrospectionURL checks opaque tokens; empty: the discovery
	// document's introspection_endpoint. ClientID and ClientSecret
	// authenticate Oyster to it.
	IntrospectionURL, ClientID, ClientSecret string
	// CacheTTL bounds how long a checked token is trusted without asking
	// again (never past its exp): a revoked token is refused within it.
	CacheTTL time.Duration
	// CacheSize bounds the tokens remembered.
	CacheSize int
	// DiscoveryTimeout bounds the retries of discovery at start-up.
	DiscoveryTimeout time.Duration
	// Admins are the (mapped) OIDC usernames that are site admins. They
	// are kept apart from Options.Admins, the htpasswd users, so that a
	// provider's user who happens to be called "admin" is not one.
	Admins []string
	// HTTPClient talks to the provider; nil: one with a 10 s timeout.
	HTTPClient *http.Client
	// Login, if its ClientID is set, lets the web UI log users in with
	// the authorization code flow (oidclogin.go).
	Login OIDCLoginOptions
}

// ErrProviderUnavailable says a token could not be checked because the
// provider did not answer (or answered 5xx): the caller is not to blame,
// so the realm answers 503 and counts no failed login.
var ErrProviderUnavailable = errors.New("the identity provider is unavailable")

// Bounds on what the provider sends back.
const (
	maxProviderBody = 1 << 20 // introspection and groups answers
	maxGroups       = 1000    // groups kept per user; more are cut and logged
)

// asymmetricAlgs are the JWT algorithms accepted: never none or HS*, whose
// key would be a secret the provider shares with every client.
var asymmetricAlgs = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"}

// oidcVerifier turns access tokens into identities.
type oidcVerifier struct {
	opts          OIDCOptions
	jwt           *oidc.IDTokenVerifier
	introspectURL string
	client        *http.Client
	cache         *identityCache
	login         *oidcLogin // nil: no web UI logins through the provider
	inflight      singleflight.Group
	now           func() time.Time
	log           *slog.Logger
}

// newOIDCVerifier discovers the provider, retrying until
// DiscoveryTimeout: a provider down at start-up fails the start.
func newOIDCVerifier(opts OIDCOptions, now func() time.Time, log *slog.Logger) (*oidcVerifier, error) {
	if opts.Audience == "" && opts.Scope == "" {
		return nil, errors.New("auth.oidc: audience or scope must be set, or tokens issued to any client would be accepted")
	}
	if opts.UsernameClaim == "" {
		return nil, errors.New("auth.oidc.claims.username must be set")
	}
	if opts.UsernameDomain == "" {
		opts.UsernameDomain = "replace"
	}
	if opts.UsernameDomain != "replace" && opts.UsernameDomain != "strip" {
		return nil, fmt.Errorf("auth.oidc.username_domain %q is not one of replace, strip", opts.UsernameDomain)
	}
	if opts.GroupsField == "" {
		opts.GroupsField = "id"
	}
	if opts.CacheSize < 1 || opts.CacheTTL <= 0 {
		return nil, errors.New("auth.oidc.cache_size and cache_ttl must be positive")
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	// The key set fetches keys with this context for as long as the
	// registry runs, so it carries the client and no deadline.
	ctx := oidc.ClientContext(context.Background(), opts.HTTPClient)
	provider, err := discover(ctx, opts.Issuer, opts.DiscoveryTimeout, log)
	if err != nil {
		return nil, err
	}
	v := &oidcVerifier{
		opts: opts, client: opts.HTTPClient, cache: newIdentityCache(opts.CacheSize), now: now, log: log,
		jwt: provider.VerifierContext(ctx, &oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: asymmetricAlgs, Now: now}),
	}
	var extra struct {
		Introspection string `json:"introspection_endpoint"`
	}
	if err := provider.Claims(&extra); err != nil {
		return nil, fmt.Errorf("auth.oidc: reading the discovery document: %w", err)
	}
	v.introspectURL = cmp.Or(opts.IntrospectionURL, extra.Introspection)
	if opts.Login.ClientID != "" {
		v.login = newOIDCLogin(ctx, provider, opts.Login, now)
	}
	return v, nil
}

// discover reads the discovery document, retrying with doubling waits
// until timeout has passed.
func discover(ctx context.Context, issuer string, timeout time.Duration, log *slog.Logger) (*oidc.Provider, error) {
	deadline := time.Now().Add(timeout)
	for wait := 250 * time.Millisecond; ; wait *= 2 {
		provider, err := oidc.NewProvider(ctx, issuer)
		if err == nil {
			return provider, nil
		}
		if time.Now().Add(wait).After(deadline) {
			return nil, fmt.Errorf("auth.oidc: discovery at %s failed within %s: %w", issuer, timeout, err)
		}
		log.Warn("auth: OIDC discovery failed; retrying", "issuer", issuer, "err", err, "retry_in", wait)
		time.Sleep(wait)
	}
}

// identify checks an access token and says whose it is. Concurrent
// checks of one uncached token (a client's parallel requests) share one
// verification. Errors never hold the token.
func (v *oidcVerifier) identify(ctx context.Context, token string) (Identity, error) {
	now := v.now()
	key := sha256.Sum256([]byte(token))
	if id, ok := v.cache.get(key, now); ok {
		return id, nil
	}
	// The shared check must not end when the first caller goes away; the
	// HTTP client's timeout bounds it.
	ctx = context.WithoutCancel(ctx)
	id, err, _ := v.inflight.Do(string(key[:]), func() (any, error) { return v.check(ctx, token, key, now) })
	if err != nil {
		return Identity{}, err
	}
	return id.(Identity), nil
}

// check verifies a token, reads its identity and caches it.
func (v *oidcVerifier) check(ctx context.Context, token string, key [32]byte, now time.Time) (Identity, error) {
	var claims map[string]any
	var exp time.Time
	var err error
	if strings.Count(token, ".") == 2 {
		claims, exp, err = v.verifyJWT(ctx, token)
	} else {
		claims, exp, err = v.introspect(ctx, token, now)
	}
	if err != nil {
		return Identity{}, err
	}
	if err := v.checkAudience(claims); err != nil {
		return Identity{}, err
	}
	id, err := v.identity(ctx, token, claims)
	if err != nil {
		return Identity{}, err
	}
	until := now.Add(v.opts.CacheTTL)
	if exp.Before(until) {
		until = exp
	}
	v.cache.put(key, id, until)
	return id, nil
}

// verifyJWT checks issuer, expiry, algorithm and signature (keys from the
// provider's JWKS, refetched for an unknown kid).
func (v *oidcVerifier) verifyJWT(ctx context.Context, token string) (map[string]any, time.Time, error) {
	t, err := v.jwt.Verify(ctx, token)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("OIDC token refused: %w", err)
	}
	var claims map[string]any
	if err := t.Claims(&claims); err != nil {
		return nil, time.Time{}, fmt.Errorf("OIDC token claims: %w", err)
	}
	return claims, t.Expiry, nil
}

// introspect asks the provider about an opaque token (RFC 7662).
func (v *oidcVerifier) introspect(ctx context.Context, token string, now time.Time) (map[string]any, time.Time, error) {
	if v.introspectURL == "" {
		return nil, time.Time{}, errors.New("an opaque token, and the provider has no introspection endpoint (auth.oidc.introspection.url)")
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.introspectURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, time.Time{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(v.opts.ClientID), url.QueryEscape(v.opts.ClientSecret))
	var claims map[string]any
	if err := v.getJSON(req, &claims); err != nil {
		return nil, time.Time{}, fmt.Errorf("introspection: %w", err)
	}
	if active, _ := claims["active"].(bool); !active {
		return nil, time.Time{}, errors.New("OIDC token refused: not active (expired, revoked or unknown)")
	}
	if iss, ok := claims["iss"].(string); ok && iss != v.opts.Issuer {
		return nil, time.Time{}, fmt.Errorf("OIDC token refused: issued by %q, not %q", iss, v.opts.Issuer)
	}
	expSeconds, ok := claims["exp"].(float64)
	exp := time.Unix(int64(expSeconds), 0)
	if !ok || !exp.After(now) {
		return nil, time.Time{}, errors.New("OIDC token refused: no exp, or expired")
	}
	return claims, exp, nil
}

// getJSON does req and decodes a 200 answer of at most maxProviderBody.
func (v *oidcVerifier) getJSON(req *http.Request, into any) error {
	resp, err := v.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProviderUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		return fmt.Errorf("%w: %s answered %s", ErrProviderUnavailable, req.URL.Redacted(), resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", req.URL.Redacted(), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderBody+1))
	if err != nil {
		return err
	}
	if len(body) > maxProviderBody {
		return fmt.Errorf("%s answered more than %d bytes", req.URL.Redacted(), maxProviderBody)
	}
	return json.Unmarshal(body, into)
}

// checkAudience accepts a token meant for this registry: Audience in its
// aud, or Scope in its scope (a space-separated string, or scp as a list).
func (v *oidcVerifier) checkAudience(claims map[string]any) error {
	if v.opts.Audience != "" && slices.Contains(stringList(claims["aud"]), v.opts.Audience) {
		return nil
	}
	if v.opts.Scope != "" {
		scopes := slices.Concat(strings.Fields(fmt.Sprint(claims["scope"])), stringList(claims["scp"]))
		if slices.Contains(scopes, v.opts.Scope) {
			return nil
		}
	}
	return fmt.Errorf("OIDC token refused: not meant for this registry (aud %v, scope %v; want aud %q or scope %q)",
		stringList(claims["aud"]), claims["scope"], v.opts.Audience, v.opts.Scope)
}

// stringList reads a claim that is a string or a list of strings.
func stringList(claim any) []string {
	switch c := claim.(type) {
	case string:
		return []string{c}
	case []any:
		var out []string
		for _, item := range c {
			if s, ok := item.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// identity reads the username and the groups.
func (v *oidcVerifier) identity(ctx context.Context, token string, claims map[string]any) (Identity, error) {
	raw, _ := claims[v.opts.UsernameClaim].(string)
	name, err := namespaceUsername(raw, v.opts.UsernameDomain)
	if err != nil {
		return Identity{}, fmt.Errorf("OIDC token refused: claim %s: %w", v.opts.UsernameClaim, err)
	}
	var groups []string
	if v.opts.GroupsClaim != "" {
		groups = stringList(claims[v.opts.GroupsClaim])
	}
	if v.opts.GroupsURL != "" {
		fetched, err := v.fetchGroups(ctx, token)
		if err != nil {
			return Identity{}, fmt.Errorf("groups of %s: %w", name, err)
		}
		groups = append(groups, fetched...)
	}
	if len(groups) > maxGroups {
		v.log.Warn("auth: groups cut", "user", name, "groups", len(groups), "kept", maxGroups)
		groups = groups[:maxGroups]
	}
	return Identity{Name: name, Groups: groups}, nil
}

// fetchGroups asks GroupsURL with the user's token: a list of strings, or
// of objects whose GroupsField names the group.
func (v *oidcVerifier) fetchGroups(ctx context.Context, token string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.opts.GroupsURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	var items []any
	if err := v.getJSON(req, &items); err != nil {
		return nil, err
	}
	var groups []string
	for _, item := range items {
		if obj, ok := item.(map[string]any); ok {
			item = obj[v.opts.GroupsField]
		}
		if g, ok := item.(string); ok && g != "" {
			groups = append(groups, g)
		}
	}
	return groups, nil
}

// namespaceName is a repository path component, as distribution spells
// it: lower-case letters and digits, separated by ., _, __ or dashes.
var namespaceName = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)

// namespaceUsername maps an identity provider's username to a namespace
// name: lower-cased, "@domain" replaced by "-domain" or stripped. A name
// that still is not a namespace is refused, never mangled further.
func namespaceUsername(raw, domain string) (string, error) {
	name := strings.ToLower(raw)
	if local, host, ok := strings.Cut(name, "@"); ok {
		name = local + "-" + host
		if domain == "strip" {
			name = local
		}
	}
	if len(name) > 64 || !namespaceName.MatchString(name) {
		return "", fmt.Errorf("username %q cannot name a namespace (lower-case letters, digits and . _ - between them, at most 64)", raw)
	}
	return name, nil
}
