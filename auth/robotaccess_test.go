package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func grant(ns string, actions ...string) []NamespaceGrant {
	return []NamespaceGrant{{Namespace: ns, Actions: actions}}
}

// TestCreateRobotPermissions: a user grants only what they may do in each
// namespace, an admin anything; robots and anonymous callers make none;
// every robot a user makes expires within the cap.
func TestCreateRobotPermissions(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Policy.Namespaces = map[string]NamespaceRules{"lab": {Users: map[string]Role{"alice": RoleRead}}}
	})
	alice, admin := Identity{Name: "alice"}, Identity{Name: "admin", Admin: true}
	week := f.clock.t.Add(7 * 24 * time.Hour)
	cases := []struct {
		name    string
		id      Identity
		grants  []NamespaceGrant
		expires time.Time
		ok      bool
	}{
		{"own namespace, every action", alice, grant("alice", ActionPull, ActionPush, ActionDelete), week, true},
		{"read role, pull", alice, grant("lab", ActionPull), week, true},
		{"read role, push", alice, grant("lab", ActionPush), week, false},
		{"someone else's namespace", alice, grant("bob", ActionPull), week, false},
		{"admin, anywhere", admin, grant("bob", ActionPush, ActionDelete), week, true},
		{"no expiry", alice, grant("alice", ActionPull), time.Time{}, false},
		{"beyond the cap", alice, grant("alice", ActionPull), f.clock.t.Add(31 * 24 * time.Hour), false},
		{"robot", Identity{Name: "robot:ci", Robot: grant("alice", ActionPush)}, grant("alice", ActionPull), week, false},
		{"anonymous", Identity{}, grant("alice", ActionPull), week, false},
	}
	for _, c := range cases {
		_ = os.Remove(filepath.Join(f.data, "auth", "robots.json")) // room under the per-owner bound
		r, token, err := f.svc.CreateRobot(c.id, "ci", c.grants, c.expires)
		if c.ok != (err == nil) {
			t.Errorf("%s: err %v, want ok %v", c.name, err, c.ok)
			continue
		}
		var refusal *NotPermittedError
		var invalid *InvalidRobotError
		if !c.ok && !errors.As(err, &refusal) && !errors.As(err, &invalid) {
			t.Errorf("%s: refused with %T %v, want a NotPermittedError or an InvalidRobotError", c.name, err, err)
		}
		if c.ok {
			if got, err := f.svc.robots.Authenticate(token, f.clock.t); err != nil || got.Owner != c.id.Name || r.Owner != c.id.Name {
				t.Errorf("%s: made robot %+v (auth err %v), want it owned by %s", c.name, got, err, c.id.Name)
			}
		}
	}
}

// TestRobotOwnership: a user sees and revokes only their own robots, an
// admin everyone's (robots from `registry token` and from files older
// than owners are an admin's); a user may own only PerOwner live robots.
func TestRobotOwnership(t *testing.T) {
	f := newFixture(t, nil)
	alice, bob, admin := Identity{Name: "alice"}, Identity{Name: "bob"}, Identity{Name: "admin", Admin: true}
	week := f.clock.t.Add(7 * 24 * time.Hour)
	old := `[{"id":"0011","name":"legacy","grants":[{"namespace":"lab","actions":["pull"]}],"created":"2025-01-01T00:00:00Z","secret_sha256":"00"}]`
	if err := os.MkdirAll(filepath.Join(f.data, "auth"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.data, "auth", "robots.json"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	a1, _, err1 := f.svc.CreateRobot(alice, "one", grant("alice", ActionPull), week)
	_, _, err2 := f.svc.CreateRobot(alice, "two", grant("alice", ActionPull), week)
	_, _, err3 := f.svc.CreateRobot(alice, "three", grant("alice", ActionPull), week)
	var refusal *NotPermittedError
	if err1 != nil || err2 != nil || !errors.As(err3, &refusal) {
		t.Fatalf("three robots with a bound of two: %v, %v, %v", err1, err2, err3)
	}
	if _, _, err := f.svc.CreateRobot(bob, "one", grant("bob", ActionPull), week); err != nil {
		t.Errorf("alice's robots count against bob's bound: %v", err)
	}
	names := func(id Identity) []string {
		list, err := f.svc.RobotsOf(id)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range list {
			out = append(out, r.Owner+"/"+r.Name)
		}
		slices.Sort(out)
		return out
	}
	if got := names(alice); !slices.Equal(got, []string{"alice/one", "alice/two"}) {
		t.Errorf("alice sees %v", got)
	}
	if got := names(admin); !slices.Equal(got, []string{"/legacy", "alice/one", "alice/two", "bob/one"}) {
		t.Errorf("the admin sees %v", got)
	}
	if err := f.svc.RevokeRobot(bob, a1.ID); !errors.Is(err, ErrNoSuchRobot) {
		t.Errorf("bob revoking alice's robot: %v, want ErrNoSuchRobot", err)
	}
	if err := f.svc.RevokeRobot(alice, "0011"); !errors.Is(err, ErrNoSuchRobot) {
		t.Errorf("alice revoking the admin's robot: %v, want ErrNoSuchRobot", err)
	}
	if err := f.svc.RevokeRobot(alice, a1.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateRobot(alice, "three", grant("alice", ActionPull), week); err != nil {
		t.Errorf("a revoked robot still counts against the bound: %v", err)
	}
	if err := f.svc.RevokeRobot(admin, "0011"); err != nil {
		t.Errorf("the admin revoking a legacy robot: %v", err)
	}
}

// TestDeadRobotsPruned: making and revoking tokens over and over keeps
// only PerOwner of one user's dead tokens in the file.
func TestDeadRobotsPruned(t *testing.T) {
	f := newFixture(t, nil)
	alice := Identity{Name: "alice"}
	for i := range 10 {
		f.clock.t = f.clock.t.Add(time.Second)
		r, _, err := f.svc.CreateRobot(alice, fmt.Sprintf("ci-%d", i), grant("alice", ActionPull), f.clock.t.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RevokeRobot(alice, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	list, err := f.svc.RobotsOf(alice)
	if err != nil {
		t.Fatal(err)
	}
	// PerOwner is 2: the last token made (revoked after the last
	// pruning) and the two newest before it.
	var names []string
	for _, r := range list {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"ci-9", "ci-8", "ci-7"}) {
		t.Errorf("alice's tokens in the file: %v", names)
	}
}
