// Package authtest makes the inputs auth's tests and the end-to-end tests
// share.
package authtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// WriteHtpasswd writes dir/htpasswd with a bcrypt line for each user (at
// bcrypt's lowest cost, to keep tests fast) and returns its path.
func WriteHtpasswd(t testing.TB, dir string, users map[string]string) string {
	t.Helper()
	var lines []string
	for user, pw := range users {
		hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, user+":"+string(hash))
	}
	path := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
