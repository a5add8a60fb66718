package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Identity is who a caller proved to be at the realm.
type Identity struct {
	// Name is the user's or the robot's name; empty is anonymous.
	Name string
	// Groups are the groups the identity provider says the user is in
	// (OIDC claims or a groups endpoint); group namespaces use them.
	Groups []string
	// Admin may do anything, including listing the whole registry.
	Admin bool
	// Robot, when set, replaces ownership: a robot may do only what its
	// grants say (and pull what is public).
	Robot []NamespaceGrant
}

// NamespaceGrant lets a robot act on every repository of one namespace.
type NamespaceGrant struct {
	Namespace string   `json:"namespace"`
	Actions   []string `json:"actions"`
}

// Role is what a member may do in a namespace.
type Role string

// The roles, each including the one before it.
const (
	RoleRead  Role = "read"  // pull
	RoleWrite Role = "write" // pull, push
	RoleAdmin Role = "admin" // pull, push, delete
)

// rank orders the roles; 0 is no role (or an unknown one).
func (r Role) rank() int {
	return slices.Index([]Role{RoleRead, RoleWrite, RoleAdmin}, r) + 1
}

// allows reports whether the role permits action.
func (r Role) allows(action string) bool {
	switch action {
	case ActionPull:
		return r.rank() >= RoleRead.rank()
	case ActionPush:
		return r.rank() >= RoleWrite.rank()
	case ActionDelete:
		return r.rank() >= RoleAdmin.rank()
	}
	return false
}

// NamespaceRules say who besides its owner may act in one namespace, and
// which of its repositories anonymous callers may pull.
type NamespaceRules struct {
	// Private makes the namespace's repositories pullable by members
	// only, unless listed in PublicRepositories.
	Private bool `yaml:"private"`
	// Groups and Users give roles to members.
	Groups map[string]Role `yaml:"groups"`
	Users  map[string]Role `yaml:"users"`
	// PublicRepositories and PrivateRepositories override Private for
	// single repositories (full names: lab/tutorial).
	PublicRepositories  []string `yaml:"public_repositories"`
	PrivateRepositories []string `yaml:"private_repositories"`
}

// Policy decides what an identity may do.
type Policy struct {
	// Private lists the namespaces whose repositories only their members
	// (and admins) may pull; "*" makes every namespace private.
	Private []string
	// Namespaces are the namespaces with members or per-repository
	// visibility, by name.
	Namespaces map[string]NamespaceRules
}

// Validate refuses roles that do not exist and repositories listed
// outside their namespace or as both public and private.
func (p Policy) Validate() error {
	for name, ns := range p.Namespaces {
		if name == "" || strings.Contains(name, "/") {
			return fmt.Errorf("auth.namespaces: %q is not a namespace (the first component of a repository name)", name)
		}
		for who, roles := range map[string]map[string]Role{"groups": ns.Groups, "users": ns.Users} {
			for member, role := range roles {
				if role.rank() == 0 {
					return fmt.Errorf("auth.namespaces.%s.%s.%s: role %q is not one of read, write, admin", name, who, member, role)
				}
			}
		}
		for _, repo := range slices.Concat(ns.PublicRepositories, ns.PrivateRepositories) {
			if Namespace(repo) != name {
				return fmt.Errorf("auth.namespaces.%s: repository %q is not in namespace %s", name, repo, name)
			}
			if slices.Contains(ns.PublicRepositories, repo) && slices.Contains(ns.PrivateRepositories, repo) {
				return fmt.Errorf("auth.namespaces.%s: repository %q is listed as both public and private", name, repo)
			}
		}
	}
	return nil
}

// public reports whether anyone may pull repo: a per-repository listing
// wins, then the namespace's default.
func (p Policy) public(repo string) bool {
	name := Namespace(repo)
	ns := p.Namespaces[name]
	switch {
	case slices.Contains(ns.PrivateRepositories, repo):
		return false
	case slices.Contains(ns.PublicRepositories, repo):
		return true
	}
	return !ns.Private && !slices.Contains(p.Private, "*") && !slices.Contains(p.Private, name)
}

// role is the strongest role id holds in namespace ns: a user owns the
// namespace named after them; otherwise their user entry or their best
// group's.
func (p Policy) role(id Identity, ns string) Role {
	if id.Name == "" {
		return ""
	}
	if id.Name == ns {
		return RoleAdmin
	}
	rules := p.Namespaces[ns]
	best := rules.Users[id.Name]
	for _, g := range id.Groups {
		if r := rules.Groups[g]; r.rank() > best.rank() {
			best = r
		}
	}
	return best
}

// Allowed reports whether id may perform a.
func (p Policy) Allowed(id Identity, a Access) bool {
	if id.Admin {
		return true
	}
	if a.Type != "repository" {
		return false // the registry catalog lists every repository: admins only
	}
	if a.Action == ActionPull && p.public(a.Name) {
		return true
	}
	ns := Namespace(a.Name)
	if id.Robot != nil {
		for _, g := range id.Robot {
			if g.Namespace == ns && slices.Contains(g.Actions, a.Action) {
				return true
			}
		}
		return false
	}
	return p.role(id, ns).allows(a.Action)
}

// Grant narrows requested scopes to what the policy allows id; a scope
// with nothing allowed is dropped, as the token spec asks.
func (p Policy) Grant(id Identity, requested []ResourceActions) []ResourceActions {
	var out []ResourceActions
	for _, r := range requested {
		var allowed []string
		for _, action := range r.Actions {
			if p.Allowed(id, Access{Type: r.Type, Name: r.Name, Action: action}) && !slices.Contains(allowed, action) {
				allowed = append(allowed, action)
			}
		}
		if len(allowed) > 0 {
			out = append(out, ResourceActions{Type: r.Type, Name: r.Name, Actions: allowed})
		}
	}
	return out
}
