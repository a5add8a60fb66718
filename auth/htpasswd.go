package auth

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// htpasswd is a file of user:bcrypt-hash lines, the format distribution's
// htpasswd access controller reads (htpasswd -B).
type htpasswd map[string][]byte

func readHtpasswd(path string) (htpasswd, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: reading htpasswd: %w", err)
	}
	users := htpasswd{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("auth: htpasswd line %d is not user:hash", n)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("auth: htpasswd line %d (user %s): only bcrypt entries are accepted (htpasswd -B)", n, user)
		}
		users[user] = []byte(hash)
	}
	return users, sc.Err()
}

// dummyHash makes a check for an unknown user cost as much as for a known
// one, so timing does not tell which users exist.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password"), bcrypt.DefaultCost)

func (h htpasswd) check(user, password string) bool {
	hash, ok := h[user]
	if !ok {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
}

func (h htpasswd) has(user string) bool {
	_, ok := h[user]
	return ok
}
