package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/auth"
)

func TestTokenCommands(t *testing.T) {
	data := t.TempDir()
	registry := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append(args, "--data", data), nil, &out, &errOut)
		return out.String(), errOut.String(), err
	}
	secret, msg, err := registry("token", "create", "--name", "ci", "--scope", "lab:pull,push", "--scope", "tools:pull", "--expires", "24h")
	if err != nil || !strings.HasPrefix(secret, auth.RobotTokenPrefix) || !strings.Contains(msg, "shown once") {
		t.Fatalf("create: %v %q %q", err, secret, msg)
	}
	list, _, err := registry("token", "list")
	if err != nil || !strings.Contains(list, "lab:pull,push tools:pull") || !strings.Contains(list, "active") || !strings.Contains(list, " admin ") || strings.Contains(list, strings.TrimSpace(secret)) {
		t.Fatalf("list: %v\n%s", err, list)
	}
	id := strings.Fields(strings.Split(list, "\n")[1])[0]
	if _, _, err := registry("token", "revoke", id); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if list, _, _ = registry("token", "list"); !strings.Contains(list, "revoked") {
		t.Errorf("after revoke:\n%s", list)
	}
	for _, bad := range [][]string{
		{"token", "create", "--name", "x", "--scope", "lab:write"},
		{"token", "create", "--name", "x"},
		{"token", "create", "--name", "x", "--scope", "lab:pull", "--expires", "soon"},
		{"token", "revoke"},
		{"token", "revoke", "nope"},
		{"token", "frob"},
	} {
		if _, _, err := registry(bad...); err == nil {
			t.Errorf("%v succeeded", bad)
		}
	}
	if list, _, _ = registry("token", "list"); strings.Count(list, "\n") != 2 {
		t.Errorf("bad input changed the robots:\n%s", list)
	}
}
