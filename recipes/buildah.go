package recipes

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Buildah builds Dockerfiles with buildah, without any daemon: chroot
// isolation, and vfs storage unless told otherwise, work on any Linux host.
type Buildah struct {
	// Root is buildah's storage directory; kept between builds, it is the
	// local layer cache.
	Root string
	// StorageDriver is vfs (copies every layer; works everywhere) or
	// overlay (needs a kernel that mounts overlayfs there); empty is vfs.
	StorageDriver string
}

func (b *Buildah) Name() string         { return "buildah" }
func (b *Buildah) Supports(k Kind) bool { return k == Dockerfile }

// global are the flags every buildah command gets.
func (b *Buildah) global() []string {
	driver := b.StorageDriver
	if driver == "" {
		driver = "vfs"
	}
	// One store per driver: a store made by one cannot be opened by the other.
	return []string{"--storage-driver", driver, "--root", filepath.Join(b.Root, driver, "storage"), "--runroot", filepath.Join(b.Root, driver, "run")}
}

func (b *Buildah) Build(ctx context.Context, req Request) (Result, error) {
	declared, err := prepareDockerfile(req)
	if err != nil {
		return Result{}, err
	}
	local := "localhost/oyster-build/" + req.Recipe.Repository + ":" + req.Tags[0]
	args := append(b.global(), "bud", "--isolation", "chroot", "--format", "oci", "--layers",
		"--tls-verify="+fmt.Sprint(!req.Insecure), "-f", filepath.Join(req.Root, req.Recipe.Path), "-t", local)
	if req.Registry != "" {
		// The layer cache lives in Oyster: a build on a fresh machine (or
		// after the local store is wiped) reuses the layers pushed before.
		cache := req.Registry + "/" + CacheRepository(req.Recipe.Repository)
		args = append(args, "--cache-from", cache, "--cache-to", cache)
	}
	args = append(args, sortedPairs("--annotation", req.Annotations)...)
	args = append(args, recipeArgs(req, declared)...)
	if err := run(ctx, req.Log, req.Root, "buildah", args...); err != nil {
		return Result{}, fmt.Errorf("buildah bud: %w", err)
	}
	defer run(context.WithoutCancel(ctx), req.Log, req.Root, "buildah", append(b.global(), "rmi", local)...) //nolint:errcheck // the cache keeps the layers
	return pushAndTag(ctx, req, declared, func(ref, digestFile string) error {
		args := append(b.global(), "push", "--tls-verify="+fmt.Sprint(!req.Insecure), "--digestfile", digestFile, local, "docker://"+ref)
		if err := run(ctx, req.Log, req.Root, "buildah", args...); err != nil {
			return &InfraError{Err: fmt.Errorf("buildah push: %w", err)}
		}
		return nil
	})
}

// prepareDockerfile checks the recipe stays inside the repository and
// parses it, so that a malformed one fails with its line before any build.
func prepareDockerfile(req Request) (Declared, error) {
	if len(req.Tags) == 0 {
		return Declared{}, fmt.Errorf("no tags to push %s to", req.Recipe.Path)
	}
	if err := CheckInside(req.Root, req.Recipe); err != nil {
		return Declared{}, err
	}
	return ReadDockerfile(filepath.Join(req.Root, req.Recipe.Path), req.Recipe.Path, req.Recipe.BuildArgs)
}

// pushAndTag pushes with push to the first tag, then points the other
// tags at the same manifest: nothing but the first tag moves until the
// image is complete in the registry.
func pushAndTag(ctx context.Context, req Request, declared Declared, push func(ref, digestFile string) error) (Result, error) {
	digestFile := filepath.Join(req.WorkDir, "digest")
	if err := os.MkdirAll(req.WorkDir, 0o755); err != nil {
		return Result{}, infra("%w", err)
	}
	if err := push(req.Registry+"/"+req.Recipe.Repository+":"+req.Tags[0], digestFile); err != nil {
		return Result{}, err
	}
	raw, err := os.ReadFile(digestFile)
	if err != nil {
		return Result{}, infra("reading the pushed digest: %w", err)
	}
	digest := strings.TrimSpace(string(raw))
	reg := newRegistry(req.Registry, req.Insecure)
	if err := reg.tag(ctx, req.Recipe.Repository, digest, req.Tags[1:], req.Log); err != nil {
		return Result{}, err
	}
	fmt.Fprintf(req.Log, "pushed %s/%s@%s\n", req.Registry, req.Recipe.Repository, digest)
	return Result{Digest: digest, Declared: declared}, nil
}

// recipeArgs are the arguments both builders take from the request, in
// their common syntax: labels, build args, platforms, and last the context
// directory.
func recipeArgs(req Request, declared Declared) []string {
	args := sortedPairs("--label", mergeLabels(req, declared))
	args = append(args, sortedPairs("--build-arg", req.Recipe.BuildArgs)...)
	for _, p := range req.Recipe.Platforms {
		args = append(args, "--platform", p)
	}
	return append(args, filepath.Join(req.Root, filepath.FromSlash(req.Recipe.Context)))
}

// mergeLabels are the image's labels: what the recipe declares, the annotations (so that the image
// config carries its provenance too) and the extra labels.
func mergeLabels(req Request, declared Declared) map[string]string {
	out := DeclaredLabels(declared)
	for k, v := range req.Annotations {
		out[k] = v
	}
	for k, v := range req.Labels {
		out[k] = v
	}
	return out
}

// CacheRepository is where the layer cache of repository is kept in Oyster.
func CacheRepository(repository string) string { return "oyster-build-cache/" + repository }
