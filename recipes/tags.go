package recipes

import (
	"regexp"
	"strings"
	"time"
)

// Revision is the commit a build is made from.
type Revision struct {
	Commit string // full SHA
	Branch string
	// DefaultBranch says the branch is the source's default: only then
	// does "latest" apply.
	DefaultBranch bool
	Time          time.Time // when the build started
}

// Short is the 12-character commit SHA the {sha} tag uses.
func (rev Revision) Short() string {
	if len(rev.Commit) > 12 {
		return rev.Commit[:12]
	}
	return rev.Commit
}

// TagsFor expands the recipe's tag templates for rev, dropping duplicates,
// "latest" off the default branch, and tags that come out invalid.
func (r Recipe) TagsFor(rev Revision) []string {
	repl := strings.NewReplacer("{sha}", rev.Short(), "{date}", rev.Time.UTC().Format("20060102"), "{branch}", tagComponent(rev.Branch))
	var out []string
	seen := map[string]bool{}
	for _, tmpl := range r.Tags {
		tag := repl.Replace(tmpl)
		if (tag == "latest" && !rev.DefaultBranch) || seen[tag] || !validTag.MatchString(tag) {
			continue
		}
		seen[tag] = true
		out = append(out, tag)
	}
	return out
}

var (
	validTag    = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
	notTagChars = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)
)

// tagComponent makes a branch name a valid tag: feature/x → feature-x.
func tagComponent(s string) string {
	return strings.TrimLeft(notTagChars.ReplaceAllString(s, "-"), ".-")
}
