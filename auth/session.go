package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// SessionCookie carries a web UI session's id. The id is random and the
// session lives in the registry's memory only, so a restart logs every
// browser out (API clients, which send credentials with each request, are
// not affected).
const SessionCookie = "oyster_session"

// SessionOptions bound the web UI's sessions.
type SessionOptions struct {
	// Max is how many sessions are kept; a login beyond it ends the
	// session idle longest.
	Max int
	// Idle ends a session nobody used for this long; Lifetime ends every
	// session this long after its login, used or not.
	Idle, Lifetime time.Duration
}

// Session is one browser's login.
type Session struct {
	Identity Identity
	// CSRF is the session's synchronizer token: every form the session
	// posts must carry it.
	CSRF     string
	Created  time.Time
	lastSeen time.Time
	robotID  string // the robot token this session logged in with, if any
}

// sessions are the live sessions by the sha256 of their id, so that
// neither a lookup's timing nor a memory dump gives an id away.
type sessions struct {
	opts SessionOptions

	mu    sync.Mutex
	byKey map[string]*Session
}

func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// add stores s under a new id and returns the id; when full it drops the
// expired sessions, then the one idle longest.
func (ss *sessions) add(s *Session, now time.Time) string {
	id := randomHex(32)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.byKey) >= ss.opts.Max {
		ss.dropExpired(now)
	}
	if len(ss.byKey) >= ss.opts.Max {
		ss.dropIdlest()
	}
	ss.byKey[sessionKey(id)] = s
	return id
}

// get returns the session with id if it has not expired, and marks it used.
func (ss *sessions) get(id string, now time.Time) (Session, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	key := sessionKey(id)
	s, ok := ss.byKey[key]
	if !ok {
		return Session{}, false
	}
	if ss.expired(s, now) {
		delete(ss.byKey, key)
		return Session{}, false
	}
	s.lastSeen = now
	return *s, true
}

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byKey, sessionKey(id))
}

func (ss *sessions) expired(s *Session, now time.Time) bool {
	return !now.Before(s.lastSeen.Add(ss.opts.Idle)) || !now.Before(s.Created.Add(ss.opts.Lifetime))
}

// dropExpired and dropIdlest run with ss.mu held.
func (ss *sessions) dropExpired(now time.Time) {
	for k, s := range ss.byKey {
		if ss.expired(s, now) {
			delete(ss.byKey, k)
		}
	}
}

func (ss *sessions) dropIdlest() {
	var idlest string
	for k, s := range ss.byKey {
		if idlest == "" || s.lastSeen.Before(ss.byKey[idlest].lastSeen) {
			idlest = k
		}
	}
	delete(ss.byKey, idlest)
}

// ErrTooManyFailures refuses a login from a source that failed too often
// lately, without checking the password.
var ErrTooManyFailures = errors.New("too many failed logins from this address; try again later")

// Login checks a password typed into the web UI's login form (a user's,
// or a robot token), the same way and against the same per-source failure
// budget as the realm, and on success starts a session for the browser.
func (s *Service) Login(w http.ResponseWriter, r *http.Request, user, password string) (Session, error) {
	id, err := s.checkCredentials(r, "auth: web login refused", user, password)
	if err != nil {
		return Session{}, err
	}
	s.log.Info("auth: web login", "user", id.Name, "source", sourceOf(r))
	robotID, _, _ := splitRobotToken(password)
	return s.startSession(w, r, id, robotID), nil
}

// startSession logs the browser in as id: it ends the session the request
// came with, if any (so that an id planted before the login is worthless
// after it), and sets the cookie of a new one. robotID names the robot
// token logged in with, "" for a user; the session ends when that token
// is revoked or expires.
func (s *Service) startSession(w http.ResponseWriter, r *http.Request, id Identity, robotID string) Session {
	s.EndSession(w, r)
	now := s.opts.Now()
	sess := &Session{Identity: id, CSRF: randomHex(24), Created: now, lastSeen: now, robotID: robotID}
	cookie := s.sessionCookie(r, s.sessions.add(sess, now))
	cookie.MaxAge = int(s.opts.Sessions.Lifetime.Seconds())
	http.SetCookie(w, cookie)
	return *sess
}

// Session returns the request's session, if it has a live one.
func (s *Service) Session(r *http.Request) (Session, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return Session{}, false
	}
	now := s.opts.Now()
	sess, ok := s.sessions.get(c.Value, now)
	if ok && sess.robotID != "" {
		if err := s.robots.Active(sess.robotID, now); err != nil {
			s.sessions.remove(c.Value)
			return Session{}, false
		}
	}
	return sess, ok
}

// EndSession logs the browser out: the session is forgotten and the
// cookie cleared.
func (s *Service) EndSession(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return
	}
	s.sessions.remove(c.Value)
	cookie := s.sessionCookie(r, "")
	cookie.MaxAge = -1
	http.SetCookie(w, cookie)
}

// sessionCookie is the cookie carrying value: out of scripts' reach, not
// sent on cross-site subrequests or posts, and only over https when the
// registry is served over https.
func (s *Service) sessionCookie(r *http.Request, value string) *http.Cookie {
	return &http.Cookie{
		Name: SessionCookie, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.IsHTTPS(r),
	}
}

// IsHTTPS reports whether the browser reaches the registry over https:
// the request came over TLS or through a proxy that says it did (as the
// realm's URL trusts), or the configured external URL is https.
func (s *Service) IsHTTPS(r *http.Request) bool {
	return strings.HasPrefix(s.baseURL(r), "https://") || r.TLS != nil
}

// ExternalURL is the registry's configured public base URL, "" if unset.
func (s *Service) ExternalURL() string { return s.opts.ExternalURL }
