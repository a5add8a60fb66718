package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/auth/oidctest"
)

// startOIDCClients starts an OpenID provider in process and a registry
// that accepts its tokens (beside htpasswd), with group namespace team
// (team-writers: write). The logins are OIDC access tokens: a JWT and
// an opaque token for walt's own namespace, and a group member's opaque
// token for team; other is a user of the provider with no role in team.
func startOIDCClients(t *testing.T) (reg *registryProc, seed string, logins []authLogin, other string) {
	t.Helper()
	p := oidctest.Start(t, oidctest.Options{})
	for _, u := range []oidctest.User{{Username: "walt"}, {Username: "gwen", Groups: []string{"team-writers"}}, {Username: "rita", Groups: []string{"team-readers"}}} {
		p.AddUser(u)
	}
	reg, seed, _ = startAuthClients(t,
		"OYSTER_AUTH_OIDC_ISSUER="+p.Issuer, "OYSTER_AUTH_OIDC_AUDIENCE=oyster",
		"OYSTER_AUTH_OIDC_INTROSPECTION_CLIENT_ID="+p.IntrospectionClientID,
		"OYSTER_AUTH_OIDC_INTROSPECTION_CLIENT_SECRET="+p.IntrospectionSecret,
		"OYSTER_AUTH_NAMESPACES={team: {private: true, groups: {team-writers: write, team-readers: read}}}")
	mint := func(user string, opaque bool) string {
		return p.Token(t, oidctest.Mint{User: user, Opaque: opaque, Lifetime: time.Hour})
	}
	logins = []authLogin{
		{"oidc-jwt", "oauth2accesstoken", mint("walt", false), "walt"},
		{"oidc-opaque", "walt", mint("walt", true), "walt"},
		{"oidc-group", "oauth2accesstoken", mint("gwen", true), "team"},
	}
	return reg, seed, logins, mint("rita", false)
}

// TestOIDCClients: crane, oras, skopeo and docker log in with OIDC access
// tokens as passwords, push to the user's own namespace and to a group
// namespace, pull, and are refused in bob's; a user without a write role
// is refused in the group namespace.
func TestOIDCClients(t *testing.T) {
	for _, tool := range []string{"crane", "oras", "skopeo"} {
		requireTool(t, tool)
	}
	requireDocker(t)
	reg, seed, logins, other := startOIDCClients(t)
	clientsPushPull(t, reg.Host, seed, logins)
	env := []string{"DOCKER_CONFIG=" + t.TempDir()}
	mustEnv(t, env, "crane", "auth", "login", reg.Host, "-u", "oauth2accesstoken", "-p", other)
	if out, err := runEnv(env, "crane", "copy", "--insecure", seed, reg.Host+"/team/rita:1"); err == nil || !strings.Contains(out, "UNAUTHORIZED") {
		t.Errorf("a team reader pushed to team/ (err=%v): %s", err, out)
	}
	mustEnv(t, env, "crane", "digest", "--insecure", reg.Host+"/team/crane:1") // read role: pull
	checkNoSecrets(t, reg, logins[0].password, logins[1].password, logins[2].password, other)
}

func TestOIDCPodman(t *testing.T) {
	requireTool(t, "podman")
	requireTool(t, "crane")
	reg, seed, logins, _ := startOIDCClients(t)
	podmanPushPull(t, reg.Host, seed, logins)
	checkNoSecrets(t, reg, logins[0].password, logins[1].password, logins[2].password)
}
