package oidctest

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The authorization code flow, for web logins: a client registered with
// AddLoginClient sends the browser to the authorization endpoint; the
// provider's login page (/login) asks for a username, known from AddUser
// (no password: this provider vouches for whoever is typed); the code is
// exchanged at the token endpoint for a JWT access token and an ID token.

// AddLoginClient registers a confidential web client whose only redirect
// URI is redirectURI, and returns its id and secret.
func (p *Provider) AddLoginClient(redirectURI string) (id, secret string) {
	c := &client{id: "web-" + randomHex(8), secret: randomHex(16), redirectURI: redirectURI, loginURL: p.Issuer + "/login"}
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	p.store.clients[c.id] = c
	return c.id, c.secret
}

// SetLoginRedirect changes a login client's redirect URI: for a registry
// whose address is known only once it runs.
func (p *Provider) SetLoginRedirect(clientID, redirectURI string) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	if c, ok := p.store.clients[clientID]; ok {
		c.redirectURI = redirectURI
	}
}

// logins are the pending authorization requests, by id and by code.
type logins struct {
	mu     sync.Mutex
	byID   map[string]*authRequest
	byCode map[string]string
}

func newLogins() logins {
	return logins{byID: map[string]*authRequest{}, byCode: map[string]string{}}
}

// authRequest is one browser's login, from the authorization request to
// the code exchange.
type authRequest struct {
	id, clientID, redirectURI, state, nonce string
	scopes                                  []string
	audience                                []string
	challenge                               *oidc.CodeChallenge
	responseType                            oidc.ResponseType
	responseMode                            oidc.ResponseMode
	subject                                 string
	authTime                                time.Time
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return a.audience }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.subject != "" }

var errUnknownRequest = errors.New("unknown authorization request")

// CreateAuthRequest keeps a request the authorization endpoint accepted.
// Its tokens are for the client (the ID token's aud) and for the
// resource server, the configured audience (the access token's).
func (s *store) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	a := &authRequest{
		id: randomHex(12), clientID: req.ClientID, redirectURI: req.RedirectURI, state: req.State, nonce: req.Nonce,
		scopes: req.Scopes, audience: []string{req.ClientID, s.opts.Audience},
		responseType: req.ResponseType, responseMode: req.ResponseMode,
	}
	if req.CodeChallenge != "" {
		a.challenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod}
	}
	s.logins.mu.Lock()
	defer s.logins.mu.Unlock()
	s.logins.byID[a.id] = a
	return a, nil
}

func (s *store) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.logins.mu.Lock()
	defer s.logins.mu.Unlock()
	if a, ok := s.logins.byID[id]; ok {
		return a, nil
	}
	return nil, errUnknownRequest
}

func (s *store) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.logins.mu.Lock()
	id := s.logins.byCode[code]
	s.logins.mu.Unlock()
	return s.AuthRequestByID(ctx, id)
}

func (s *store) SaveAuthCode(_ context.Context, id, code string) error {
	s.logins.mu.Lock()
	defer s.logins.mu.Unlock()
	if _, ok := s.logins.byID[id]; !ok {
		return errUnknownRequest
	}
	s.logins.byCode[code] = id
	return nil
}

// DeleteAuthRequest forgets a request once its code was exchanged, so a
// code works once.
func (s *store) DeleteAuthRequest(_ context.Context, id string) error {
	s.logins.mu.Lock()
	defer s.logins.mu.Unlock()
	delete(s.logins.byID, id)
	for code, of := range s.logins.byCode {
		if of == id {
			delete(s.logins.byCode, code)
		}
	}
	return nil
}

// loginAccessToken records the access token of a finished login; s.mu is
// not held.
func (s *store) loginAccessToken(a *authRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, exp := randomHex(12), time.Now().Add(5*time.Minute)
	s.tokens[id] = &token{subject: a.subject, client: a.clientID, audience: []string{s.opts.Audience}, scopes: a.scopes, exp: exp}
	return id, exp, nil
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><title>oidctest login</title></head><body>
<h1>Sign in to the test provider</h1>
{{with .Problem}}<p id="problem">{{.}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="id" value="{{.ID}}">
<label for="op-username">Username</label> <input id="op-username" name="username">
<button id="op-submit" type="submit">Sign in</button>
</form></body></html>`))

// serveLogin is the provider's login page: it asks who is signing in
// for an authorization request, then sends the browser to the
// authorization endpoint's callback, which redirects it with a code.
func (p *Provider) serveLogin(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	if r.Method != http.MethodPost {
		_ = loginPage.Execute(w, map[string]string{"ID": id})
		return
	}
	user := r.PostFormValue("username")
	p.store.mu.Lock()
	_, known := p.store.users[user]
	p.store.mu.Unlock()
	p.store.logins.mu.Lock()
	a, pending := p.store.logins.byID[id]
	if known && pending {
		a.subject, a.authTime = user, time.Now()
	}
	p.store.logins.mu.Unlock()
	switch {
	case !pending:
		http.Error(w, "unknown authorization request", http.StatusBadRequest)
	case !known:
		w.WriteHeader(http.StatusUnauthorized)
		_ = loginPage.Execute(w, map[string]string{"ID": id, "Problem": "unknown user"})
	default:
		http.Redirect(w, r, p.Issuer+"/authorize/callback?id="+id, http.StatusFound)
	}
}
