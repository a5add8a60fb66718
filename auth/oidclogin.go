package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDCLoginOptions configure the web UI's login through the provider: the
// authorization code flow with PKCE (S256), as a confidential client.
// The redirect URI, which the provider must have registered, is
// <external_url>/login/callback, or the request's own origin's without
// an external URL.
type OIDCLoginOptions struct {
	ClientID, ClientSecret string
}

// oidcCallbackPath is where the provider sends the browser back.
const oidcCallbackPath = "/login/callback"

// oidcLoginCookie carries one pending login's state, nonce, PKCE verifier
// and the page to return to, from the redirect to the provider to the
// callback. It is HttpOnly and short-lived; SameSite=Lax, because the
// callback is a top-level navigation from the provider's site.
const oidcLoginCookie = "oyster_oidc_login"

// oidcLoginTTL bounds how long a user may take at the provider's page.
const oidcLoginTTL = 10 * time.Minute

// oidcLogin is the web client of the provider.
type oidcLogin struct {
	config   oauth2.Config
	idTokens *oidc.IDTokenVerifier
}

func newOIDCLogin(ctx context.Context, provider *oidc.Provider, opts OIDCLoginOptions, now func() time.Time) *oidcLogin {
	return &oidcLogin{
		config: oauth2.Config{
			ClientID: opts.ClientID, ClientSecret: opts.ClientSecret,
			Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
		},
		idTokens: provider.VerifierContext(ctx, &oidc.Config{ClientID: opts.ClientID, SupportedSigningAlgs: asymmetricAlgs, Now: now}),
	}
}

// OIDCLoginEnabled reports whether the web UI may send users to the
// provider to log in.
func (s *Service) OIDCLoginEnabled() bool { return s.oidc != nil && s.oidc.login != nil }

// StartOIDCLogin sends the browser to the provider's login, with a fresh
// state, nonce and PKCE verifier kept in a short-lived cookie; next is
// the local page to return to.
func (s *Service) StartOIDCLogin(w http.ResponseWriter, r *http.Request, next string) error {
	if !s.OIDCLoginEnabled() {
		return errors.New("logins through the identity provider are not configured (auth.oidc.client_id)")
	}
	state, nonce, verifier := randomHex(16), randomHex(16), oauth2.GenerateVerifier()
	pending := strings.Join([]string{state, nonce, verifier, base64.RawURLEncoding.EncodeToString([]byte(next))}, ".")
	http.SetCookie(w, &http.Cookie{
		Name: oidcLoginCookie, Value: pending, Path: "/login", MaxAge: int(oidcLoginTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.IsHTTPS(r),
	})
	target := s.oauth2Config(r).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// FinishOIDCLogin is the provider's redirect back: it checks the state
// against the cookie, exchanges the code with the PKCE verifier, verifies
// the ID token and its nonce, then resolves the ACCESS token to an
// identity exactly as the realm does (so groups match), and starts a
// session. It returns the page to go on to.
func (s *Service) FinishOIDCLogin(w http.ResponseWriter, r *http.Request) (next string, err error) {
	if !s.OIDCLoginEnabled() {
		return "", errors.New("logins through the identity provider are not configured (auth.oidc.client_id)")
	}
	c, cookieErr := r.Cookie(oidcLoginCookie)
	http.SetCookie(w, &http.Cookie{Name: oidcLoginCookie, Path: "/login", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.IsHTTPS(r)})
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("the identity provider refused the login: %.200s", e)
	}
	if cookieErr != nil {
		return "", errors.New("no login is pending in this browser (it took longer than 10 minutes, or cookies are off)")
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 4 || !sameSecret(q.Get("state"), parts[0]) {
		return "", errors.New("the login's state does not match this browser's")
	}
	nonce, verifier := parts[1], parts[2]
	if raw, err := base64.RawURLEncoding.DecodeString(parts[3]); err == nil {
		next = string(raw)
	}
	id, err := s.exchangeCode(r.Context(), s.oauth2Config(r), q.Get("code"), nonce, verifier)
	if err != nil {
		s.log.Warn("auth: web login through the identity provider refused", "source", sourceOf(r), "reason", err.Error())
		return "", err
	}
	s.startSession(w, r, id, "")
	s.log.Info("auth: web login through the identity provider", "user", id.Name, "source", sourceOf(r))
	return next, nil
}

// exchangeCode turns the code into the identity of its access token.
func (s *Service) exchangeCode(ctx context.Context, config *oauth2.Config, code, nonce, verifier string) (Identity, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.oidc.client)
	tok, err := config.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("exchanging the code: %w", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idToken, err := s.oidc.login.idTokens.Verify(ctx, rawID)
	if err != nil {
		return Identity{}, fmt.Errorf("the ID token: %w", err)
	}
	if !sameSecret(idToken.Nonce, nonce) {
		return Identity{}, errors.New("the ID token's nonce is not this login's")
	}
	return s.IdentifyToken(ctx, tok.AccessToken)
}

// oauth2Config is the client's configuration with the redirect URI r's
// browser reaches the registry at.
func (s *Service) oauth2Config(r *http.Request) *oauth2.Config {
	config := s.oidc.login.config
	config.RedirectURL = s.baseURL(r) + oidcCallbackPath
	return &config
}

// sameSecret compares a received value with the expected one; empty
// matches nothing.
func sameSecret(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
