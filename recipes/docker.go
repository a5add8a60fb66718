package recipes

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// Docker builds Dockerfiles with a Docker daemon (BuildKit when the
// daemon uses it) and pushes with it. Docker's manifests carry no
// annotations: the provenance is in the image's labels.
type Docker struct{}

func (d *Docker) Name() string         { return "docker" }
func (d *Docker) Supports(k Kind) bool { return k == Dockerfile }

var pushedDigest = regexp.MustCompile(`digest: (sha256:[0-9a-f]{64})`)

func (d *Docker) Build(ctx context.Context, req Request) (Result, error) {
	declared, err := prepareDockerfile(req)
	if err != nil {
		return Result{}, err
	}
	ref := req.Registry + "/" + req.Recipe.Repository + ":" + req.Tags[0]
	args := []string{"build", "-f", filepath.Join(req.Root, req.Recipe.Path), "-t", ref}
	args = append(args, recipeArgs(req, declared)...)
	if err := run(ctx, req.Log, req.Root, "docker", args...); err != nil {
		return Result{}, fmt.Errorf("docker build: %w", err)
	}
	defer run(context.WithoutCancel(ctx), req.Log, req.Root, "docker", "image", "rm", ref) //nolint:errcheck // only tidying
	return pushAndTag(ctx, req, declared, func(ref, digestFile string) error {
		out := &capture{w: req.Log}
		if err := run(ctx, out, req.Root, "docker", "push", ref); err != nil {
			return &InfraError{Err: fmt.Errorf("docker push: %w", err)}
		}
		m := pushedDigest.FindSubmatch(out.buf)
		if m == nil {
			return infra("docker push printed no digest")
		}
		return os.WriteFile(digestFile, m[1], 0o644)
	})
}

// capture passes writes on and keeps a copy.
type capture struct {
	w   io.Writer
	buf []byte
}

func (c *capture) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	return c.w.Write(p)
}
