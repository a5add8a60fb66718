// Package hub holds oyster_hub.py, the JupyterHub side of Oyster's image
// selection. This Go test runs its Python unit tests so that `go test ./...`
// (and so CI) fails when they do.
package hub

import (
	"bytes"
	"os/exec"
	"testing"
)

func TestPythonUnitTests(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is not installed: run scripts/install-test-deps.sh")
	}
	out, err := exec.Command(python, "-m", "unittest", "discover", "-s", ".", "-t", ".").CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("Ran 0 tests")) {
		t.Fatalf("python3 -m unittest discover hub: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
