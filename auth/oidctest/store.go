package oidctest

import (
	"context"
	"crypto/rsa"
	"errors"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// store is the provider's memory: op.Storage for the client credentials
// grant, introspection and (login.go) the authorization code flow.
type store struct {
	mu             sync.Mutex
	opts           Options
	issuer         string
	key            signingKey
	users          map[string]User    // by username, which is also the subject
	clients        map[string]*client // by id
	tokens         map[string]*token  // by id
	byValue        map[string]string  // token → id, for Revoke and the groups endpoint
	groupsRequests int
	introspections int
	logins         logins // the authorization code flow's requests
}

type token struct {
	subject, client string
	audience        []string
	scopes          []string
	exp             time.Time
}

func newStore(opts Options, key *rsa.PrivateKey) *store {
	return &store{
		opts: opts, key: signingKey{id: randomHex(8), key: key},
		users: map[string]User{}, clients: map[string]*client{}, tokens: map[string]*token{}, byValue: map[string]string{},
		logins: newLogins(),
	}
}

var errNotServed = errors.New("oidctest: only the client credentials and authorization code grants are served")

// The client credentials grant: every mint has its own client.

func (s *store) ClientCredentials(_ context.Context, clientID, clientSecret string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok || c.secret != clientSecret || c.mint == nil {
		return nil, errors.New("wrong client or secret")
	}
	return c, nil
}

func (s *store) ClientCredentialsTokenRequest(_ context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return mintRequest{client: s.clients[clientID], scopes: scopes}, nil
}

// mintRequest is the token request of one mint's client.
type mintRequest struct {
	client *client
	scopes []string
}

func (r mintRequest) GetSubject() string    { return r.client.mint.User }
func (r mintRequest) GetAudience() []string { return r.client.mint.Audience }
func (r mintRequest) GetScopes() []string   { return r.scopes }

// CreateAccessToken records the token the op package is making.
func (s *store) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	if login, ok := req.(*authRequest); ok {
		return s.loginAccessToken(login)
	}
	r, ok := req.(mintRequest)
	if !ok {
		return "", time.Time{}, errNotServed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.client.tokenID = randomHex(12)
	exp := time.Now().Add(r.client.mint.Lifetime)
	s.tokens[r.client.tokenID] = &token{subject: r.GetSubject(), client: r.client.id, audience: r.GetAudience(), scopes: r.scopes, exp: exp}
	return r.client.tokenID, exp, nil
}

// GetPrivateClaimsFromScopes puts the username, the groups and the scope
// in JWT access tokens.
func (s *store) GetPrivateClaimsFromScopes(_ context.Context, userID, _ string, scopes []string) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userID]
	if !ok {
		return nil, errors.New("unknown user")
	}
	return map[string]any{s.opts.UsernameClaim: u.Username, s.opts.GroupsClaim: u.Groups, "scope": oidc.SpaceDelimitedArray(scopes).String()}, nil
}

// SetIntrospectionFromToken answers for live tokens, to the resource
// server's client only.
func (s *store) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.introspections++
	t, ok := s.tokens[tokenID]
	if !ok || t.subject != subject || !time.Now().Before(t.exp) || s.clients[clientID] == nil || s.clients[clientID].mint != nil {
		return errors.New("inactive")
	}
	u := s.users[subject]
	resp.Issuer, resp.Subject, resp.ClientID = s.issuer, subject, t.client
	resp.Audience, resp.Scope = t.audience, t.scopes
	resp.Expiration = oidc.FromTime(t.exp)
	resp.TokenType = "Bearer"
	resp.Claims = map[string]any{s.opts.UsernameClaim: u.Username, s.opts.GroupsClaim: u.Groups, "identity_set": []string{subject}}
	return nil
}

func (s *store) AuthorizeClientIDSecret(_ context.Context, clientID, clientSecret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[clientID]; ok && c.secret == clientSecret {
		return nil
	}
	return errors.New("wrong client or secret")
}

func (s *store) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[clientID]; ok {
		return c, nil
	}
	return nil, errors.New("unknown client")
}

// Keys: one RS256 key, published in the JWKS.

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

func (s *store) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }
func (s *store) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}
func (s *store) KeySet(context.Context) ([]op.Key, error) { return []op.Key{publicKey{s.key}}, nil }
func (s *store) Health(context.Context) error             { return nil }

// What the provider does not serve.

func (s *store) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errNotServed
}
func (s *store) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errNotServed
}
func (s *store) TerminateSession(context.Context, string, string) error { return errNotServed }
func (s *store) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return oidc.ErrUnsupportedGrantType()
}
func (s *store) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}
func (s *store) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}
func (s *store) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return errNotServed
}
func (s *store) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotServed
}
func (s *store) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errNotServed
}

// client is a mint's client (client credentials grant), a web login
// client (authorization code grant, redirectURI set) or, with neither,
// the resource server that introspects.
type client struct {
	id, secret  string
	mint        *Mint
	tokenID     string // the token minted for it
	redirectURI string
	loginURL    string // the provider's login page, for login clients
}

func (c *client) GetID() string { return c.id }
func (c *client) RedirectURIs() []string {
	if c.redirectURI == "" {
		return nil
	}
	return []string{c.redirectURI}
}
func (c *client) PostLogoutRedirectURIs() []string    { return nil }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	if c.redirectURI == "" {
		return nil
	}
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) LoginURL(id string) string            { return c.loginURL + "?id=" + id }
func (c *client) IDTokenLifetime() time.Duration       { return time.Minute }
func (c *client) DevMode() bool                        { return false }
func (c *client) IsScopeAllowed(string) bool           { return true }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) GrantTypes() []oidc.GrantType {
	switch {
	case c.redirectURI != "":
		return []oidc.GrantType{oidc.GrantTypeCode}
	case c.mint == nil:
		return nil
	}
	return []oidc.GrantType{oidc.GrantTypeClientCredentials}
}

func (c *client) AccessTokenType() op.AccessTokenType {
	if c.mint != nil && c.mint.Opaque {
		return op.AccessTokenTypeBearer
	}
	return op.AccessTokenTypeJWT
}
