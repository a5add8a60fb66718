package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/auth"
)

// Robot tokens, managed by their owners: the /tokens page (a logged-in
// session, forms checked against CSRF) and /api/v1/tokens (credentials
// sent with each request: Basic, or a bearer robot token; a session
// cookie only reads, see auth.Identify). auth decides who may grant what.

// tokenRoutes are the JSON endpoints; only with auth on.
func tokenRoutes(svc *auth.Service) []route {
	t := tokenAPI{auth: svc}
	return []route{
		{"GET", "/api/v1/tokens", t.list},
		{"POST", "/api/v1/tokens", t.create},
		{"DELETE", "/api/v1/tokens/{id}", t.revoke},
	}
}

type tokenAPI struct{ auth *auth.Service }

// caller is who sent r; anonymous callers are asked to log in.
func (t tokenAPI) caller(w http.ResponseWriter, r *http.Request) (auth.Identity, error) {
	id, err := t.auth.Identify(r)
	if err != nil || id.Name == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="oyster"`)
		return auth.Identity{}, errorf(api.CodeUnauthorized, "send Basic credentials (a user's password, or a robot token) or a bearer robot token")
	}
	return id, nil
}

func (t tokenAPI) list(w http.ResponseWriter, r *http.Request) error {
	id, err := t.caller(w, r)
	if err != nil {
		return err
	}
	robots, err := t.auth.RobotsOf(id)
	if err != nil {
		return tokenError(err)
	}
	out := api.TokenList{Tokens: []api.Token{}}
	for _, rb := range robots {
		out.Tokens = append(out.Tokens, apiToken(rb))
	}
	return respond(w, out)
}

func (t tokenAPI) create(w http.ResponseWriter, r *http.Request) error {
	id, err := t.caller(w, r)
	if err != nil {
		return err
	}
	var req api.TokenRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return errorf(api.CodeInvalidRequest, "the body is not a token request {name, scopes, expires} within %d bytes: %v", maxFormBytes, err)
	}
	grants, err := parseScopes(req.Scopes)
	if err != nil {
		return errorf(api.CodeInvalidRequest, "%v", err)
	}
	robot, secret, err := t.auth.CreateRobot(id, req.Name, grants, req.Expires)
	if err != nil {
		return tokenError(err)
	}
	body, err := json.Marshal(api.CreatedToken{Token: apiToken(robot), Secret: secret})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(append(body, '\n'))
	return nil
}

func (t tokenAPI) revoke(w http.ResponseWriter, r *http.Request) error {
	id, err := t.caller(w, r)
	if err != nil {
		return err
	}
	if err := t.auth.RevokeRobot(id, r.PathValue("id")); err != nil {
		return tokenError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// tokenError is what the caller is told of a refusal from auth; other
// errors stay internal.
func tokenError(err error) error {
	var refused *auth.NotPermittedError
	var invalid *auth.InvalidRobotError
	switch {
	case errors.As(err, &refused):
		return errorf(api.CodeForbidden, "%s", refused.Reason)
	case errors.As(err, &invalid):
		return errorf(api.CodeInvalidRequest, "%s", invalid.Reason)
	case errors.Is(err, auth.ErrNoSuchRobot):
		return errorf(api.CodeNotFound, "no robot token of yours has that id")
	}
	return err
}

// parseScopes reads NAMESPACE:ACTIONS scopes, as `registry token --scope`.
func parseScopes(scopes []string) ([]auth.NamespaceGrant, error) {
	var out []auth.NamespaceGrant
	for _, s := range scopes {
		g, err := auth.ParseGrant(s)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

func apiToken(r auth.Robot) api.Token {
	t := api.Token{
		ID: r.ID, Name: r.Name, Owner: r.Owner, Created: r.Created, Revoked: r.Revoked, Scopes: []api.TokenScope{},
		Expired: !r.Expires.IsZero() && !time.Now().Before(r.Expires),
	}
	if !r.Expires.IsZero() {
		t.Expires = &r.Expires
	}
	for _, g := range r.Grants {
		t.Scopes = append(t.Scopes, api.TokenScope{Namespace: g.Namespace, Actions: g.Actions})
	}
	return t
}

// tokensView is the /tokens page: the caller's tokens, the form to make
// one, and a token just made, whose secret this page shows once.
type tokensView struct {
	frame
	Tokens  []api.Token
	Admin   bool
	Created *api.CreatedToken
	Problem string
	// Name, Scopes and Days refill the form after a problem.
	Name, Scopes  string
	Days, MaxDays int
}

// tokensPage lists the session's tokens; without a session, log in first.
func (u *ui) tokensPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := u.auth.Session(r)
	if !ok {
		http.Redirect(w, r, "/login?next=/tokens", http.StatusSeeOther)
		return
	}
	u.renderTokens(w, r, sess, http.StatusOK, tokensView{Days: 30})
}

// renderTokens fills v with the session's tokens and renders it. The page
// may hold a secret, so no cache keeps it.
func (u *ui) renderTokens(w http.ResponseWriter, r *http.Request, sess auth.Session, status int, v tokensView) {
	robots, err := u.auth.RobotsOf(sess.Identity)
	if err != nil {
		var refused *auth.NotPermittedError
		if errors.As(err, &refused) {
			u.message(w, r, http.StatusForbidden, "Robot tokens", refused.Reason)
			return
		}
		u.fail(w, r, err)
		return
	}
	for _, rb := range robots {
		v.Tokens = append(v.Tokens, apiToken(rb))
	}
	v.frame = frame{Title: "Robot tokens", Page: "tokens", Account: u.accountOf(r)}
	v.Admin = sess.Identity.Admin
	v.MaxDays = int(u.auth.RobotLimits().MaxLifetime / (24 * time.Hour))
	w.Header().Set("Cache-Control", "no-store")
	u.render(w, status, "tokens", "layout", v)
}

// createToken makes a token from the form and shows its secret once.
func (u *ui) createToken(w http.ResponseWriter, r *http.Request) {
	sess, ok := u.formSession(w, r)
	if !ok {
		return
	}
	form := tokensView{Name: r.PostForm.Get("name"), Scopes: r.PostForm.Get("scopes")}
	days, err := strconv.Atoi(r.PostForm.Get("days"))
	if err != nil || days < 1 {
		form.Problem = "Give the token's lifetime as a whole number of days, at least 1."
		u.renderTokens(w, r, sess, http.StatusBadRequest, form)
		return
	}
	form.Days = days
	grants, err := parseScopes(strings.Fields(form.Scopes))
	if err != nil {
		form.Problem = err.Error()
		u.renderTokens(w, r, sess, http.StatusBadRequest, form)
		return
	}
	robot, secret, err := u.auth.CreateRobot(sess.Identity, form.Name, grants, time.Now().Add(time.Duration(days)*24*time.Hour))
	if err != nil {
		var e *api.Error
		if !errors.As(tokenError(err), &e) {
			u.fail(w, r, err)
			return
		}
		form.Problem = e.Message
		u.renderTokens(w, r, sess, e.Code.HTTPStatus(), form)
		return
	}
	u.renderTokens(w, r, sess, http.StatusCreated, tokensView{Days: 30, Created: &api.CreatedToken{Token: apiToken(robot), Secret: secret}})
}

// revokeToken revokes one of the session's tokens.
func (u *ui) revokeToken(w http.ResponseWriter, r *http.Request) {
	sess, ok := u.formSession(w, r)
	if !ok {
		return
	}
	if err := u.auth.RevokeRobot(sess.Identity, r.PathValue("id")); err != nil {
		var e *api.Error
		if !errors.As(tokenError(err), &e) {
			u.fail(w, r, err)
			return
		}
		u.renderTokens(w, r, sess, e.Code.HTTPStatus(), tokensView{Days: 30, Problem: e.Message})
		return
	}
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
}

// formSession is the session of a form post that passed the CSRF checks;
// otherwise it has answered (403, or to the login page) and is not ok.
func (u *ui) formSession(w http.ResponseWriter, r *http.Request) (auth.Session, bool) {
	sess, ok := u.auth.Session(r)
	if !ok {
		if !sameOrigin(r, u.auth.ExternalURL()) {
			u.forbidden(w, r, errForged)
			return auth.Session{}, false
		}
		http.Redirect(w, r, "/login?next=/tokens", http.StatusSeeOther)
		return auth.Session{}, false
	}
	if err := checkForm(w, r, u.auth.ExternalURL(), sess.CSRF); err != nil {
		u.forbidden(w, r, err)
		return auth.Session{}, false
	}
	return sess, true
}
