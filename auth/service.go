package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RealmPath is where the token service answers.
const RealmPath = "/auth/token"

// Options configure a Service.
type Options struct {
	// DataDir holds the signing keys (auth/keys) and robots (auth/robots.json).
	DataDir string
	// HtpasswdPath is a bcrypt htpasswd file of users; empty: no users.
	HtpasswdPath string
	// OIDC, if set, accepts the provider's access tokens as passwords.
	OIDC *OIDCOptions
	// Admins are the users who are site admins.
	Admins []string
	// Service names this registry in tokens (aud) and challenges.
	Service string
	// ExternalURL, if set, is the base of the realm URL; otherwise the
	// request's scheme and host are.
	ExternalURL string
	// TokenTTL is how long an issued token is valid.
	TokenTTL time.Duration
	// KeyRotation is how long one signing key signs before the next.
	KeyRotation time.Duration
	// Policy says who may pull what.
	Policy Policy
	// MaxFailedLogins from one source within FailedLoginWindow block that
	// source until the window ends.
	MaxFailedLogins   int
	FailedLoginWindow time.Duration
	// Sessions bound the web UI's logins.
	Sessions SessionOptions
	// Robots bound the robot tokens users make for themselves.
	Robots RobotLimits
	Log    *slog.Logger
	// Now is the clock (tests move it); nil is time.Now.
	Now func() time.Time
}

// issuer is the iss of every token; a token from anyone else is refused.
const issuer = "oyster-token-service"

// Service issues and checks registry tokens.
type Service struct {
	opts     Options
	users    htpasswd
	keys     *keyRing
	robots   *Robots
	limiter  *limiter
	log      *slog.Logger
	checked  verifiedTokens
	sessions *sessions
	oidc     *oidcVerifier // nil: no OIDC logins
}

// New opens the signing keys (making one if there is none or the newest
// is due for rotation), reads the htpasswd file and opens the robots.
func New(opts Options) (*Service, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.TokenTTL <= 0 || opts.KeyRotation <= 0 || opts.MaxFailedLogins <= 0 || opts.FailedLoginWindow <= 0 || opts.Service == "" {
		return nil, errors.New("auth: service, token_ttl, key_rotation, max_failed_logins and failed_login_window must be set")
	}
	if opts.Sessions.Max <= 0 || opts.Sessions.Idle <= 0 || opts.Sessions.Lifetime <= 0 || opts.Robots.PerOwner <= 0 || opts.Robots.MaxLifetime <= 0 {
		return nil, errors.New("auth: sessions (max, idle, lifetime) and robot limits (per owner, max lifetime) must be set")
	}
	if err := opts.Policy.Validate(); err != nil {
		return nil, err
	}
	s := &Service{opts: opts, users: htpasswd{}, robots: OpenRobots(opts.DataDir), limiter: newLimiter(opts.MaxFailedLogins, opts.FailedLoginWindow), log: opts.Log,
		sessions: &sessions{opts: opts.Sessions, byKey: map[string]*Session{}}}
	if opts.HtpasswdPath != "" {
		users, err := readHtpasswd(opts.HtpasswdPath)
		if err != nil {
			return nil, err
		}
		s.users = users
	}
	keys, err := openKeyRing(filepath.Join(opts.DataDir, "auth", "keys"), opts.KeyRotation, opts.TokenTTL, opts.Now())
	if err != nil {
		return nil, err
	}
	s.keys = keys
	if opts.OIDC != nil {
		if s.oidc, err = newOIDCVerifier(*opts.OIDC, opts.Now, opts.Log); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// tokenResponse is the realm's answer, in both the docker and the OAuth2
// spellings.
type tokenResponse struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
}

// ServeToken is the realm: GET with Basic credentials (or none, for an
// anonymous token) and scope/service parameters, or POST of an OAuth2
// password grant form. It answers a token with the requested scopes
// narrowed to what the caller may do.
func (s *Service) ServeToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeTokenError(w, http.StatusMethodNotAllowed, "unsupported_method", r.Method+" on the token endpoint")
		return
	}
	now := s.opts.Now()
	source := sourceOf(r)
	if wait := s.limiter.blocked(source, now); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		s.log.Warn("auth: login refused: too many failures", "source", source)
		writeTokenError(w, http.StatusTooManyRequests, "too_many_requests", "too many failed logins from this address; try again later")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeTokenError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	if svc := r.Form.Get("service"); svc != "" && svc != s.opts.Service {
		writeTokenError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("this token service serves %q, not %q", s.opts.Service, svc))
		return
	}
	scopes, err := requestedScopes(r.Form["scope"])
	if err != nil {
		writeTokenError(w, http.StatusBadRequest, "invalid_scope", err.Error())
		return
	}
	user, password, present := credentials(r)
	id := Identity{}
	if present {
		id, err = s.checkCredentials(r, "auth: login refused", user, password)
		switch {
		case errors.Is(err, ErrProviderUnavailable):
			w.Header().Set("Retry-After", "10")
			writeTokenError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the identity provider is unavailable; try again later")
			return
		case errors.Is(err, ErrTooManyFailures):
			writeTokenError(w, http.StatusTooManyRequests, "too_many_requests", "too many failed logins from this address; try again later")
			return
		case err != nil:
			writeTokenError(w, http.StatusUnauthorized, "unauthorized", "invalid username or password")
			return
		}
	}
	granted := s.opts.Policy.Grant(id, scopes)
	token, err := s.issue(id.Name, granted, now)
	if err != nil {
		s.log.Error("auth: signing a token", "err", err)
		writeTokenError(w, http.StatusInternalServerError, "server_error", "could not sign a token")
		return
	}
	s.log.Debug("auth: token issued", "user", id.Name, "source", source, "granted", fmt.Sprint(granted))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(tokenResponse{
		Token: token, AccessToken: token, ExpiresIn: int(s.opts.TokenTTL.Seconds()), IssuedAt: now.UTC().Format(time.RFC3339),
	})
}

// credentials reads Basic credentials, or an OAuth2 password grant.
func credentials(r *http.Request) (user, password string, ok bool) {
	if user, password, ok = r.BasicAuth(); ok {
		return user, password, true
	}
	if r.Method == http.MethodPost && r.PostForm.Get("grant_type") == "password" {
		return r.PostForm.Get("username"), r.PostForm.Get("password"), true
	}
	return "", "", false
}

// requestedScopes reads scope parameters; one parameter may hold several
// scopes separated by spaces.
func requestedScopes(params []string) ([]ResourceActions, error) {
	var out []ResourceActions
	for _, p := range params {
		for _, one := range strings.Fields(p) {
			ra, err := ParseScope(one)
			if err != nil {
				return nil, err
			}
			out = append(out, ra)
		}
	}
	return out, nil
}

// authenticate checks a password: a robot token (it starts with
// oyster_), an htpasswd entry (if the user has one), then an OIDC access
// token, whatever the username (clients insist on one). Its errors name
// the user or robot, never the secret.
func (s *Service) authenticate(ctx context.Context, user, password string, now time.Time) (Identity, error) {
	if strings.HasPrefix(password, RobotTokenPrefix) {
		robot, err := s.robots.Authenticate(password, now)
		if err != nil {
			return Identity{}, err
		}
		return Identity{Name: "robot:" + robot.Name, Robot: robot.Grants}, nil
	}
	if s.oidc == nil || s.users.has(user) {
		if s.users.check(user, password) {
			return Identity{Name: user, Admin: slices.Contains(s.opts.Admins, user)}, nil
		}
		if s.oidc == nil {
			return Identity{}, errors.New("wrong password or unknown user")
		}
	}
	return s.IdentifyToken(ctx, password)
}

// checkCredentials authenticates credentials sent to one of Oyster's
// faces against the source's failed-login budget: ErrTooManyFailures for
// a blocked source (unchecked), ErrBadCredentials for wrong ones (a
// failure, logged as refused), and ErrBadCredentials wrapping
// ErrProviderUnavailable when the identity provider could not be asked
// (no failure: the caller is not to blame).
func (s *Service) checkCredentials(r *http.Request, refused, user, password string) (Identity, error) {
	now, source := s.opts.Now(), sourceOf(r)
	if s.limiter.blocked(source, now) > 0 {
		return Identity{}, ErrTooManyFailures
	}
	id, err := s.authenticate(r.Context(), user, password, now)
	switch {
	case errors.Is(err, ErrProviderUnavailable):
		s.log.Error("auth: credentials not checked", "user", user, "source", source, "path", r.URL.Path, "reason", err.Error())
		return Identity{}, fmt.Errorf("%w: %w", ErrBadCredentials, err)
	case err != nil:
		s.limiter.fail(source, now)
		s.log.Warn(refused, "user", user, "source", source, "path", r.URL.Path, "reason", err.Error())
		return Identity{}, ErrBadCredentials
	}
	return id, nil
}

// IdentifyToken checks an OIDC access token (the web UI's login hands
// it the token it received) and says whose it is.
func (s *Service) IdentifyToken(ctx context.Context, token string) (Identity, error) {
	if s.oidc == nil {
		return Identity{}, errors.New("OIDC logins are not configured (auth.oidc.issuer)")
	}
	id, err := s.oidc.identify(ctx, token)
	if err != nil {
		return Identity{}, err
	}
	id.Admin = slices.Contains(s.opts.OIDC.Admins, id.Name)
	return id, nil
}

// OIDCCacheStats counts the OIDC token cache's hits, misses and
// evictions; zero without OIDC.
func (s *Service) OIDCCacheStats() CacheStats {
	if s.oidc == nil {
		return CacheStats{}
	}
	return s.oidc.cache.snapshot()
}

func (s *Service) issue(subject string, access []ResourceActions, now time.Time) (string, error) {
	key, err := s.keys.current(now)
	if err != nil {
		return "", err
	}
	if access == nil {
		access = []ResourceActions{}
	}
	return sign(key, Claims{
		Issuer: issuer, Subject: subject, Audience: s.opts.Service,
		IssuedAt: now.Unix(), NotBefore: now.Unix() - 1, ExpiresAt: now.Add(s.opts.TokenTTL).Unix(),
		ID: randomHex(12), Access: access,
	})
}

// Grant is what a request was allowed, kept in its context.
type Grant struct {
	Subject string // empty for anonymous
	Access  []Access
}

type grantKey struct{}

// WithGrant records in ctx that the request was authorized for g.
func WithGrant(ctx context.Context, g *Grant) context.Context {
	return context.WithValue(ctx, grantKey{}, g)
}

// GrantOf returns the grant Authorize recorded, or nil.
func GrantOf(ctx context.Context) *Grant {
	g, _ := ctx.Value(grantKey{}).(*Grant)
	return g
}

// covers reports whether g was checked for every access in want.
func (g *Grant) covers(want []Access) bool {
	for _, a := range want {
		if !slices.Contains(g.Access, a) {
			return false
		}
	}
	return true
}

// Authorize checks a /v2/ request for access: a bearer token whose claims
// cover it, or no token at all when anonymous callers may have it (pulls
// of public repositories). The base route (no access) needs a valid
// token, which is how clients learn where to log in. Refusals are
// *Challenge errors.
func (s *Service) Authorize(r *http.Request, access []Access) (*Grant, error) {
	header := r.Header.Get("Authorization")
	token, isBearer := strings.CutPrefix(header, "Bearer ")
	if !isBearer {
		if len(access) > 0 && s.anonymousMay(access) {
			return &Grant{Access: access}, nil
		}
		return nil, s.challenge(r, access, "", nil)
	}
	claims, err := s.verify(strings.TrimSpace(token))
	if err != nil {
		s.log.Warn("auth: token refused", "source", sourceOf(r), "path", r.URL.Path, "reason", err.Error())
		return nil, s.challenge(r, access, "invalid_token", err)
	}
	for _, a := range access {
		if !grants(claims.Access, a) {
			return nil, s.challenge(r, access, "insufficient_scope", fmt.Errorf("token for %q does not grant %s on %s", claims.Subject, a.Action, a.Name))
		}
	}
	return &Grant{Subject: claims.Subject, Access: access}, nil
}

// verify checks a token, or finds it checked before and still valid.
func (s *Service) verify(token string) (Claims, error) {
	now := s.opts.Now()
	if c, ok := s.checked.get(token, now); ok {
		return c, nil
	}
	c, err := verify(token, s.keys.public, issuer, s.opts.Service, now)
	if err == nil {
		s.checked.put(token, c, now)
	}
	return c, err
}

func (s *Service) anonymousMay(access []Access) bool {
	for _, a := range access {
		if !s.opts.Policy.Allowed(Identity{}, a) {
			return false
		}
	}
	return true
}

// Challenge refuses a request and says where to get a token for it.
type Challenge struct {
	Realm, Service, Scope, Code string
	Err                         error
}

func (c *Challenge) Error() string {
	if c.Err != nil {
		return "authorization required: " + c.Err.Error()
	}
	return "authorization required"
}

// SetHeaders adds the WWW-Authenticate header (distribution's
// auth.Challenge interface).
func (c *Challenge) SetHeaders(_ *http.Request, w http.ResponseWriter) {
	v := fmt.Sprintf("Bearer realm=%q,service=%q", c.Realm, c.Service)
	if c.Scope != "" {
		v += fmt.Sprintf(",scope=%q", c.Scope)
	}
	if c.Code != "" {
		v += fmt.Sprintf(",error=%q", c.Code)
	}
	w.Header().Set("WWW-Authenticate", v)
}

func (s *Service) challenge(r *http.Request, access []Access, code string, err error) *Challenge {
	return &Challenge{Realm: s.realm(r), Service: s.opts.Service, Scope: scopeString(access), Code: code, Err: err}
}

// scopeString joins accesses into scopes, one per resource.
func scopeString(access []Access) string {
	var scopes []ResourceActions
	for _, a := range access {
		i := slices.IndexFunc(scopes, func(ra ResourceActions) bool { return ra.Type == a.Type && ra.Name == a.Name })
		if i < 0 {
			scopes = append(scopes, ResourceActions{Type: a.Type, Name: a.Name})
			i = len(scopes) - 1
		}
		if !slices.Contains(scopes[i].Actions, a.Action) {
			scopes[i].Actions = append(scopes[i].Actions, a.Action)
		}
	}
	parts := make([]string, len(scopes))
	for i, ra := range scopes {
		parts[i] = ra.String()
	}
	return strings.Join(parts, " ")
}

func (s *Service) realm(r *http.Request) string {
	return s.baseURL(r) + RealmPath
}

// baseURL is where clients reach the registry: the external URL, or the
// request's scheme and host.
func (s *Service) baseURL(r *http.Request) string {
	if s.opts.ExternalURL != "" {
		return strings.TrimSuffix(s.opts.ExternalURL, "/")
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// sourceOf is the address failed logins are counted against.
func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func writeTokenError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": message})
}
