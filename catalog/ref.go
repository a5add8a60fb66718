package catalog

import (
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Ref names one manifest of one repository, and so one Record.
type Ref struct {
	Repo   string
	Digest digest.Digest
}

// String is the reference as clients write it: repo@digest.
func (r Ref) String() string { return r.Repo + "@" + string(r.Digest) }

// ParseRef reads what String wrote. The digest is not validated: keys read
// back from a store are trusted to be what the store wrote.
func ParseRef(s string) (Ref, error) {
	repo, d, ok := strings.Cut(s, "@")
	if !ok || repo == "" || d == "" {
		return Ref{}, fmt.Errorf("%q is not repository@digest", s)
	}
	return Ref{Repo: repo, Digest: digest.Digest(d)}, nil
}
