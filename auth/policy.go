package auth

import "slices"

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

// Policy decides what an identity may do.
type Policy struct {
	// Private lists the namespaces whose repositories only their owners
	// (and admins) may pull; "*" makes every namespace private.
	Private []string
}

func (p Policy) public(repo string) bool {
	return !slices.Contains(p.Private, "*") && !slices.Contains(p.Private, Namespace(repo))
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
	return id.Name != "" && id.Name == ns
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
