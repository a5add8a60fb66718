package version

import (
	"errors"
	"fmt"
	"strings"
)

// Constraint is one condition on a version: an operator and an operand.
// The empty operator is a prefix match on whole components, the form users
// type in a search ("python:3.11" means any 3.11.x).
type Constraint struct {
	Op      string `json:"op"`
	Version string `json:"version"`
}

// operators, longest first so that ">=" is not read as ">".
var operators = []string{">=", "<=", "==", "!=", ">", "<", "="}

// ErrConstraint marks an unparseable constraint.
var ErrConstraint = errors.New("invalid version constraint")

// ParseConstraint reads ">=1.26", "<2", "==3.11.*", "!=1.0", "=1.0" or a
// bare prefix such as "3.11".
func ParseConstraint(s string) (Constraint, error) {
	s = strings.TrimSpace(s)
	c := Constraint{Version: s}
	for _, op := range operators {
		if rest, ok := strings.CutPrefix(s, op); ok {
			c = Constraint{Op: op, Version: strings.TrimSpace(rest)}
			break
		}
	}
	if strings.TrimSuffix(c.Version, ".*") == "" || strings.ContainsAny(c.Version, " \t<>=!,") {
		return Constraint{}, fmt.Errorf("%w: %q", ErrConstraint, s)
	}
	return c, nil
}

// Match reports whether version v satisfies c under scheme s. "==X.*" is
// PEP 440's prefix form and is treated like a bare prefix.
func (c Constraint) Match(s Scheme, v string) bool {
	if prefix, ok := strings.CutSuffix(c.Version, ".*"); ok && (c.Op == "==" || c.Op == "=" || c.Op == "") {
		return hasComponentPrefix(v, prefix)
	}
	cmp := Compare(s, v, c.Version)
	switch c.Op {
	case "":
		return cmp == 0 || hasComponentPrefix(v, c.Version)
	case "=", "==":
		return cmp == 0
	case "!=":
		return cmp != 0
	case ">=":
		return cmp >= 0
	case "<=":
		return cmp <= 0
	case ">":
		return cmp > 0
	}
	return cmp < 0 // "<", the only operator left
}

// hasComponentPrefix reports whether v starts with prefix and the prefix
// ends at a component boundary: 3.11 is a prefix of 3.11.7 and 3.11rc1, not
// of 3.110.
func hasComponentPrefix(v, prefix string) bool {
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), prefix)
	if !ok {
		return false
	}
	return rest == "" || !isDigit(rest[0]) || !isDigit(prefix[len(prefix)-1])
}

// Matches reports whether v satisfies every constraint in a comma-separated
// list such as ">=1.20,<2".
func Matches(s Scheme, v, constraints string) (bool, error) {
	for _, part := range strings.Split(constraints, ",") {
		c, err := ParseConstraint(part)
		if err != nil {
			return false, err
		}
		if !c.Match(s, v) {
			return false, nil
		}
	}
	return true, nil
}
