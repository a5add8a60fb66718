package remote

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Ref names an image in the client's registry.
type Ref struct {
	Repo string
	Tag  string        // empty when only the digest is given
	Dig  digest.Digest // empty when only the tag is given
}

// repoPattern is the distribution-spec's repository name grammar.
var repoPattern = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)

var tagPattern = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// ParseRef reads repo[:tag][@digest], optionally prefixed by the
// registry's own host; no tag and no digest means "latest". A ref naming
// another registry is refused: the stager follows one registry.
func (c *Client) ParseRef(s string) (Ref, error) {
	rest := s
	if first, after, ok := strings.Cut(rest, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		if first != c.base.Host {
			return Ref{}, fmt.Errorf("reference %q names registry %s; this stager follows %s", s, first, c.base.Host)
		}
		rest = after
	}
	var r Ref
	if name, dig, ok := strings.Cut(rest, "@"); ok {
		d, err := digest.Parse(dig)
		if err != nil {
			return Ref{}, fmt.Errorf("reference %q: %w", s, err)
		}
		r.Dig, rest = d, name
	}
	if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		r.Tag, rest = rest[i+1:], rest[:i]
		if !tagPattern.MatchString(r.Tag) {
			return Ref{}, fmt.Errorf("reference %q: tag %q is not valid", s, r.Tag)
		}
	}
	if !repoPattern.MatchString(rest) {
		return Ref{}, fmt.Errorf("reference %q: repository %q is not valid", s, rest)
	}
	r.Repo = rest
	if r.Tag == "" && r.Dig == "" {
		r.Tag = "latest"
	}
	return r, nil
}

// Reference is what to ask the registry for: the digest if known.
func (r Ref) Reference() string {
	if r.Dig != "" {
		return r.Dig.String()
	}
	return r.Tag
}

// String is the ref without the registry host.
func (r Ref) String() string {
	s := r.Repo
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Dig != "" {
		s += "@" + r.Dig.String()
	}
	return s
}
