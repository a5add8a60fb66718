package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Actions a scope may grant on a repository.
const (
	ActionPull   = "pull"
	ActionPush   = "push"
	ActionDelete = "delete"
)

// Access is one action on one resource, as distribution names them:
// Type "repository" with a repository name, or "registry" "catalog".
type Access struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Action string `json:"action"`
}

// ResourceActions is the access claim of a token: several actions on one
// resource (the shape docker's token spec gives).
type ResourceActions struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// ParseScope reads a scope parameter as clients send it:
// "repository:alice/tools:pull,push" (the name may hold a port-free host
// and slashes; the type and actions are split off at the ends).
func ParseScope(s string) (ResourceActions, error) {
	typ, rest, ok := strings.Cut(s, ":")
	i := strings.LastIndex(rest, ":")
	if !ok || i <= 0 || typ == "" {
		return ResourceActions{}, fmt.Errorf("scope %q is not type:name:actions", s)
	}
	name, actions := rest[:i], strings.Split(rest[i+1:], ",")
	if slices.Contains(actions, "") {
		return ResourceActions{}, fmt.Errorf("scope %q has an empty action", s)
	}
	return ResourceActions{Type: typ, Name: name, Actions: actions}, nil
}

func (ra ResourceActions) String() string {
	return ra.Type + ":" + ra.Name + ":" + strings.Join(ra.Actions, ",")
}

// grants reports whether the claims allow a.
func grants(claims []ResourceActions, a Access) bool {
	for _, c := range claims {
		if c.Type == a.Type && c.Name == a.Name && (slices.Contains(c.Actions, a.Action) || slices.Contains(c.Actions, "*")) {
			return true
		}
	}
	return false
}

// Namespace is the first path component of a repository name: the unit
// that is owned and that is public or private.
func Namespace(repo string) string {
	ns, _, _ := strings.Cut(repo, "/")
	return ns
}
