package auth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestIdentify: Oyster's own faces take credentials directly; none is
// anonymous, wrong ones are refused and count as failed logins.
func TestIdentify(t *testing.T) {
	f := newFixture(t, nil)
	grants := []NamespaceGrant{{Namespace: "lab", Actions: []string{ActionPull}}}
	_, robotToken, err := f.svc.robots.Create("stager", grants, f.clock.t.Add(time.Hour), f.clock.t)
	if err != nil {
		t.Fatal(err)
	}
	request := func(set func(*http.Request)) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/search", nil)
		r.RemoteAddr = "198.51.100.4:1234"
		set(r)
		return r
	}
	cases := []struct {
		name    string
		set     func(*http.Request)
		want    string
		wantErr bool
	}{
		{"none", func(*http.Request) {}, "", false},
		{"htpasswd", func(r *http.Request) { r.SetBasicAuth("alice", passwords["alice"]) }, "alice", false},
		{"robot as password", func(r *http.Request) { r.SetBasicAuth("stager", robotToken) }, "robot:stager", false},
		{"robot as bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+robotToken) }, "robot:stager", false},
		{"wrong password", func(r *http.Request) { r.SetBasicAuth("alice", "nope") }, "", true},
		{"unknown bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer oyster_x_y") }, "", true},
	}
	for _, c := range cases {
		id, err := f.svc.Identify(request(c.set))
		if id.Name != c.want || (err != nil) != c.wantErr || (err != nil && !errors.Is(err, ErrBadCredentials)) {
			t.Errorf("%s: identity %q, err %v; want %q, error %v", c.name, id.Name, err, c.want, c.wantErr)
		}
	}
	// Two failures so far; the third blocks the source, even for right
	// credentials.
	f.svc.Identify(request(func(r *http.Request) { r.SetBasicAuth("bob", "nope") }))
	if _, err := f.svc.Identify(request(func(r *http.Request) { r.SetBasicAuth("alice", passwords["alice"]) })); err == nil {
		t.Error("a blocked source was let in")
	}
	if !f.svc.MayPull(Identity{Name: "alice"}, "public/x") || f.svc.MayPull(Identity{Name: "alice"}, "secret/x") || !f.svc.MayPull(Identity{Name: "secret"}, "secret/x") {
		t.Error("MayPull disagrees with the policy")
	}
}
