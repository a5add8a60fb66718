package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// RobotTokenPrefix starts every robot token, so that the realm (and a
// secret scanner) can tell one from a password.
const RobotTokenPrefix = "oyster_"

// Robot is a robot account or personal access token: a name, what it may
// do, and the sha256 of its secret; the secret itself is shown once, when
// it is created, and never stored.
type Robot struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Owner is the user who made the robot in the web UI or the API; ""
	// (robots made with `registry token`, and files from before owners)
	// is an admin's.
	Owner     string           `json:"owner,omitempty"`
	Grants    []NamespaceGrant `json:"grants"`
	Created   time.Time        `json:"created"`
	Expires   time.Time        `json:"expires,omitzero"`
	Revoked   bool             `json:"revoked,omitempty"`
	SecretSHA string           `json:"secret_sha256"`
}

// Robots is the file of robot tokens, <data>/auth/robots.json, shared by
// the running registry and `registry token` (which edits it while the
// registry runs: the registry rereads it when it changes).
type Robots struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	byID    map[string]Robot
}

// OpenRobots opens the robot token file under dataDir (it need not exist).
func OpenRobots(dataDir string) *Robots {
	return &Robots{path: filepath.Join(dataDir, "auth", "robots.json")}
}

var robotName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ParseGrant reads a --scope value: NAMESPACE:ACTION[,ACTION…], actions
// among pull, push, delete.
func ParseGrant(s string) (NamespaceGrant, error) {
	ns, actions, ok := strings.Cut(s, ":")
	if !ok || ns == "" || strings.Contains(ns, "/") {
		return NamespaceGrant{}, fmt.Errorf("scope %q is not NAMESPACE:ACTIONS (for example alice:pull,push)", s)
	}
	g := NamespaceGrant{Namespace: ns}
	for _, a := range strings.Split(actions, ",") {
		if !slices.Contains([]string{ActionPull, ActionPush, ActionDelete}, a) {
			return NamespaceGrant{}, fmt.Errorf("scope %q: action %q is not one of pull, push, delete", s, a)
		}
		g.Actions = append(g.Actions, a)
	}
	return g, nil
}

// InvalidRobotError refuses a robot that cannot be made as asked (its
// name, scopes or expiry); its message may be shown to the caller.
type InvalidRobotError struct{ Reason string }

func (e *InvalidRobotError) Error() string { return e.Reason }

// Create adds a robot and returns it with its token, the only time the
// token exists outside the caller's hands. A zero expires never expires.
func (rs *Robots) Create(name string, grants []NamespaceGrant, expires time.Time, now time.Time) (Robot, string, error) {
	return rs.create(Robot{Name: name, Grants: grants, Expires: expires}, now, nil)
}

// create adds a robot made from spec's name, owner, grants and expiry.
// admit, if set, may refuse it given the robots there are, or drop some
// of them to make room; it runs under the lock that writes the file, so
// two creations cannot both pass it.
func (rs *Robots) create(spec Robot, now time.Time, admit func(map[string]Robot) error) (Robot, string, error) {
	if !robotName.MatchString(spec.Name) {
		return Robot{}, "", &InvalidRobotError{fmt.Sprintf("robot name %q must be 1 to 64 lower-case letters, digits, '.', '_' or '-'", spec.Name)}
	}
	if len(spec.Grants) == 0 {
		return Robot{}, "", &InvalidRobotError{"a robot needs at least one scope"}
	}
	if !spec.Expires.IsZero() && !spec.Expires.After(now) {
		return Robot{}, "", &InvalidRobotError{"a robot's expiry must be in the future"}
	}
	id, secret := randomHex(8), randomHex(32)
	token := RobotTokenPrefix + id + "_" + secret
	r := Robot{ID: id, Name: spec.Name, Owner: spec.Owner, Grants: spec.Grants, Created: now.UTC(), Expires: spec.Expires.UTC(), SecretSHA: hashSecret(secret)}
	err := rs.update(func(m map[string]Robot) error {
		if admit != nil {
			if err := admit(m); err != nil {
				return err
			}
		}
		m[id] = r
		return nil
	})
	if err != nil {
		return Robot{}, "", err
	}
	return r, token, nil
}

// Revoke marks a robot revoked; its tokens stop working at once at the
// realm, and the registry tokens it got expire within their short life.
func (rs *Robots) Revoke(id string) error {
	return rs.update(func(m map[string]Robot) error {
		r, ok := m[id]
		if !ok {
			return fmt.Errorf("no robot token with id %q", id)
		}
		r.Revoked = true
		m[id] = r
		return nil
	})
}

// List returns every robot, newest first.
func (rs *Robots) List() ([]Robot, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if err := rs.reload(); err != nil {
		return nil, err
	}
	var out []Robot
	for _, r := range rs.byID {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Robot) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// Authenticate returns the robot whose token this is, if it is valid now.
func (rs *Robots) Authenticate(token string, now time.Time) (Robot, error) {
	id, secret, ok := splitRobotToken(token)
	if !ok {
		return Robot{}, errors.New("malformed robot token")
	}
	r, found, err := rs.lookup(id)
	switch {
	case err != nil:
		return Robot{}, err
	case !found || subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(r.SecretSHA)) != 1:
		return Robot{}, errors.New("unknown robot token")
	}
	if err := r.usable(now); err != nil {
		return Robot{}, err
	}
	return r, nil
}

// lookup finds the robot with id as the file holds it now.
func (rs *Robots) lookup(id string) (r Robot, found bool, err error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if err := rs.reload(); err != nil {
		return Robot{}, false, err
	}
	r, found = rs.byID[id]
	return r, found, nil
}

// splitRobotToken splits oyster_<id>_<secret>.
func splitRobotToken(token string) (id, secret string, ok bool) {
	rest, isRobot := strings.CutPrefix(token, RobotTokenPrefix)
	if !isRobot {
		return "", "", false
	}
	return strings.Cut(rest, "_")
}

// Active reports why the robot with id may not be used now: unknown,
// revoked or expired; nil if it may.
func (rs *Robots) Active(id string, now time.Time) error {
	r, found, err := rs.lookup(id)
	switch {
	case err != nil:
		return err
	case !found:
		return fmt.Errorf("no robot token with id %q", id)
	}
	return r.usable(now)
}

// usable says why r may not be used now, or nil.
func (r Robot) usable(now time.Time) error {
	switch {
	case r.Revoked:
		return fmt.Errorf("robot token %s (%s) is revoked", r.ID, r.Name)
	case !r.Expires.IsZero() && !now.Before(r.Expires):
		return fmt.Errorf("robot token %s (%s) expired", r.ID, r.Name)
	}
	return nil
}

// reload rereads the file if it changed; rs.mu is held.
func (rs *Robots) reload() error {
	st, err := os.Stat(rs.path)
	if errors.Is(err, os.ErrNotExist) {
		rs.byID = map[string]Robot{}
		return nil
	}
	if err != nil {
		return err
	}
	if rs.byID != nil && st.ModTime().Equal(rs.modTime) && st.Size() == rs.size {
		return nil
	}
	raw, err := os.ReadFile(rs.path)
	if err != nil {
		return err
	}
	var list []Robot
	if err := json.Unmarshal(raw, &list); err != nil {
		return fmt.Errorf("auth: %s: %w", rs.path, err)
	}
	rs.byID = map[string]Robot{}
	for _, r := range list {
		rs.byID[r.ID] = r
	}
	rs.modTime, rs.size = st.ModTime(), st.Size()
	return nil
}

// update applies change to the robots and writes the file atomically.
func (rs *Robots) update(change func(map[string]Robot) error) error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.byID = nil // always start from the file: another process may have written it
	if err := rs.reload(); err != nil {
		return err
	}
	if err := change(rs.byID); err != nil {
		return err
	}
	list := make([]Robot, 0, len(rs.byID))
	for _, r := range rs.byID {
		list = append(list, r)
	}
	slices.SortFunc(list, func(a, b Robot) int { return a.Created.Compare(b.Created) })
	raw, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(rs.path), 0o700); err != nil {
		return err
	}
	tmp := rs.path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return err
	}
	rs.byID = nil // reread with the new modification time next time
	return os.Rename(tmp, rs.path)
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func randomHex(n int) string {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(buf)
}
