package auth

import (
	"slices"
	"strings"
	"testing"
)

// matrixPolicy has every kind of namespace: a user's own, one listed in
// private_namespaces, a private group namespace with one public
// repository, and a public group namespace with one private repository.
var matrixPolicy = Policy{
	Private: []string{"secret"},
	Namespaces: map[string]NamespaceRules{
		"lab": {
			Private: true, PublicRepositories: []string{"lab/tutorial"},
			Groups: map[string]Role{"lab-readers": RoleRead, "lab-writers": RoleWrite, "lab-admins": RoleAdmin},
			Users:  map[string]Role{"carol": RoleWrite},
		},
		"open": {Groups: map[string]Role{"lab-writers": RoleWrite}, PrivateRepositories: []string{"open/hidden"}},
	},
}

var matrixRepos = []string{"alice/pub", "secret/data", "lab/code", "lab/tutorial", "open/tools", "open/hidden"}

// matrixIdentities are the callers of the matrix, by the row's name.
var matrixIdentities = map[string]Identity{
	"anonymous":         {},
	"owner alice":       {Name: "alice"},
	"other user bob":    {Name: "bob", Groups: []string{"unrelated"}},
	"group reader":      {Name: "rita", Groups: []string{"lab-readers"}},
	"group writer":      {Name: "walt", Groups: []string{"lab-readers", "lab-writers"}},
	"group admin":       {Name: "ada", Groups: []string{"lab-admins"}},
	"user role carol":   {Name: "carol"},
	"robot lab:pull":    {Name: "robot:ci", Robot: []NamespaceGrant{{Namespace: "lab", Actions: []string{ActionPull}}, {Namespace: "open", Actions: []string{ActionPush}}}},
	"site admin":        {Name: "root", Admin: true},
	"group named as ns": {Name: "eve", Groups: []string{"lab"}}, // a group called like a namespace owns nothing
	"robot named as ns": {Name: "alice", Robot: []NamespaceGrant{}},
}

// matrixWant is written out by hand: who may do what, "repo:actions".
var matrixWant = map[string]string{
	"anonymous":         "alice/pub:pull lab/tutorial:pull open/tools:pull",
	"owner alice":       "alice/pub:pull,push,delete lab/tutorial:pull open/tools:pull",
	"other user bob":    "alice/pub:pull lab/tutorial:pull open/tools:pull",
	"group reader":      "alice/pub:pull lab/code:pull lab/tutorial:pull open/tools:pull",
	"group writer":      "alice/pub:pull lab/code:pull,push lab/tutorial:pull,push open/tools:pull,push open/hidden:pull,push",
	"group admin":       "alice/pub:pull lab/code:pull,push,delete lab/tutorial:pull,push,delete open/tools:pull",
	"user role carol":   "alice/pub:pull lab/code:pull,push lab/tutorial:pull,push open/tools:pull",
	"robot lab:pull":    "alice/pub:pull lab/code:pull lab/tutorial:pull open/tools:pull,push open/hidden:push",
	"site admin":        "alice/pub:pull,push,delete secret/data:pull,push,delete lab/code:pull,push,delete lab/tutorial:pull,push,delete open/tools:pull,push,delete open/hidden:pull,push,delete",
	"group named as ns": "alice/pub:pull lab/tutorial:pull open/tools:pull",
	"robot named as ns": "alice/pub:pull lab/tutorial:pull open/tools:pull",
}

// TestPolicyMatrix generates every identity × repository × action and
// checks the table against the hand-written one, and that Allowed, Grant
// and MayPull agree on every cell.
func TestPolicyMatrix(t *testing.T) {
	if err := matrixPolicy.Validate(); err != nil {
		t.Fatal(err)
	}
	svc := &Service{opts: Options{Policy: matrixPolicy}}
	all := []string{ActionPull, ActionPush, ActionDelete}
	for name, id := range matrixIdentities {
		var got []string
		for _, repo := range matrixRepos {
			var allowed []string
			for _, action := range all {
				if matrixPolicy.Allowed(id, Access{Type: "repository", Name: repo, Action: action}) {
					allowed = append(allowed, action)
				}
			}
			granted := matrixPolicy.Grant(id, []ResourceActions{{Type: "repository", Name: repo, Actions: all}})
			var grantedActions []string
			if len(granted) == 1 {
				grantedActions = granted[0].Actions
			}
			if !slices.Equal(allowed, grantedActions) {
				t.Errorf("%s on %s: Allowed says %v, Grant %v", name, repo, allowed, grantedActions)
			}
			if svc.MayPull(id, repo) != slices.Contains(allowed, ActionPull) {
				t.Errorf("%s on %s: MayPull disagrees with Allowed", name, repo)
			}
			if len(allowed) > 0 {
				got = append(got, repo+":"+strings.Join(allowed, ","))
			}
		}
		if g := strings.Join(got, " "); g != matrixWant[name] {
			t.Errorf("%s may:\n got %s\nwant %s", name, g, matrixWant[name])
		}
	}
	if len(matrixWant) != len(matrixIdentities) {
		t.Error("a row of the expected table has no identity")
	}
}

// TestPolicyStar: "*" in private_namespaces makes every namespace private,
// except repositories a namespace lists as public.
func TestPolicyStar(t *testing.T) {
	p := Policy{Private: []string{"*"}, Namespaces: map[string]NamespaceRules{"lab": {PublicRepositories: []string{"lab/tutorial"}}}}
	anon := Identity{}
	if p.Allowed(anon, pull("alice/x")) || p.Allowed(anon, pull("lab/code")) || !p.Allowed(anon, pull("lab/tutorial")) {
		t.Error(`"*" with a public repository override`)
	}
	if !p.Allowed(Identity{Name: "alice"}, pull("alice/x")) {
		t.Error("the owner may not pull from a private namespace")
	}
}

func TestPolicyRefusesBadRules(t *testing.T) {
	for name, rules := range map[string]map[string]NamespaceRules{
		"unknown group role": {"lab": {Groups: map[string]Role{"g": "owner"}}},
		"unknown user role":  {"lab": {Users: map[string]Role{"u": "Write"}}},
		"empty role":         {"lab": {Users: map[string]Role{"u": ""}}},
		"repo elsewhere":     {"lab": {PublicRepositories: []string{"other/x"}}},
		"both lists":         {"lab": {PublicRepositories: []string{"lab/x"}, PrivateRepositories: []string{"lab/x"}}},
		"slash in name":      {"lab/x": {}},
	} {
		if err := (Policy{Namespaces: rules}).Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
		opts := newFixture(t, nil).svc.opts
		opts.Policy = Policy{Namespaces: rules}
		if _, err := New(opts); err == nil {
			t.Errorf("%s: the service started", name)
		}
	}
}
