package recipes

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/oyster-registry/oyster/oci/sif"
)

// SIF builds Apptainer definition files without apptainer: buildah makes
// the root filesystem (base, %files, %post), oci/sif lays out the SIF as
// apptainer 1.5 does, and the SIF is pushed as apptainer pushes it over
// ORAS.
type SIF struct {
	Buildah *Buildah
}

func (b *SIF) Name() string         { return "buildah-sif" }
func (b *SIF) Supports(k Kind) bool { return k == Definition }

func (b *SIF) Build(ctx context.Context, req Request) (Result, error) {
	if len(req.Tags) == 0 {
		return Result{}, fmt.Errorf("no tags to push %s to", req.Recipe.Path)
	}
	if err := CheckInside(req.Root, req.Recipe); err != nil {
		return Result{}, err
	}
	def, err := ReadDefinition(filepath.Join(req.Root, req.Recipe.Path), req.Recipe.Path)
	if err != nil {
		return Result{}, err
	}
	if err := def.Unsupported(req.Recipe.Path); err != nil {
		return Result{}, err
	}
	copies, err := filesToCopy(req.Root, req.Recipe, def)
	if err != nil {
		return Result{}, err
	}
	declared := def.Declared()
	ctr, err := b.from(ctx, req, def)
	if err != nil {
		return Result{}, err
	}
	defer b.buildah(context.WithoutCancel(ctx), req, "rm", ctr) //nolint:errcheck // tidying
	for _, c := range copies {
		if err := b.buildah(ctx, req, "copy", ctr, filepath.Join(req.Root, filepath.FromSlash(c.src)), c.dst); err != nil {
			return Result{}, fmt.Errorf("%s: %%files %s: %w", req.Recipe.Path, c.src, err)
		}
	}
	if post := def.Section("post"); strings.TrimSpace(post) != "" {
		if err := b.buildah(ctx, req, "run", "--isolation", "chroot", ctr, "--", "/bin/sh", "-e", "-c", post); err != nil {
			return Result{}, fmt.Errorf("%s:%d: %%post failed: %w", req.Recipe.Path, sectionLine(def, "post"), err)
		}
	}
	root, err := b.mount(ctx, req, ctr)
	if err != nil {
		return Result{}, err
	}
	defer b.buildah(context.WithoutCancel(ctx), req, "umount", ctr) //nolint:errcheck // tidying
	img := b.image(req, def, declared)
	if err := writeScripts(root, def); err != nil {
		return Result{}, infra("writing the image's scripts: %w", err)
	}
	if err := sif.Prepare(root, img); err != nil {
		return Result{}, infra("preparing /.singularity.d: %w", err)
	}
	if err := os.MkdirAll(req.WorkDir, 0o755); err != nil {
		return Result{}, infra("%w", err)
	}
	out := filepath.Join(req.WorkDir, "image.sif")
	fmt.Fprintf(req.Log, "assembling %s\n", out)
	if err := sif.Build(root, out, img); err != nil {
		return Result{}, infra("assembling the SIF: %w", err)
	}
	return pushAndTag(ctx, req, declared, func(ref, digestFile string) error {
		reg := newRegistry(req.Registry, req.Insecure)
		digest, err := reg.pushSIF(ctx, req.Recipe.Repository, req.Tags[0], out, req.Annotations)
		if err != nil {
			return err
		}
		fmt.Fprintf(req.Log, "pushed %s as a SIF\n", ref)
		return os.WriteFile(digestFile, []byte(digest), 0o644)
	})
}

func (b *SIF) buildah(ctx context.Context, req Request, args ...string) error {
	return run(ctx, req.Log, req.Root, "buildah", append(b.Buildah.global(), args...)...)
}

// from makes the working container from the Bootstrap and From headers.
func (b *SIF) from(ctx context.Context, req Request, def *DefinitionFile) (string, error) {
	name := "oyster-sif-" + randomHex()
	base := "scratch"
	switch strings.ToLower(def.Header["bootstrap"]) {
	case "docker":
		base = "docker://" + strings.TrimPrefix(def.Header["from"], "docker://")
	}
	err := b.buildah(ctx, req, "from", "--tls-verify="+fmt.Sprint(!req.Insecure), "--name", name, base)
	if err != nil {
		return "", fmt.Errorf("%s:%d: base image %s: %w", req.Recipe.Path, def.HeaderLine["from"], base, err)
	}
	return name, nil
}

// fileCopy is one %files line: a source inside the repository and where
// it goes in the image.
type fileCopy struct {
	src, dst string
}

// filesToCopy reads the %files lines of def: "source [destination]", the
// source relative to the build context and inside the repository (after
// symbolic links too), the destination the source's path when not given.
func filesToCopy(root string, r Recipe, def *DefinitionFile) ([]fileCopy, error) {
	var out []fileCopy
	for _, s := range def.Sections {
		if s.Name != "files" {
			continue
		}
		for i, line := range strings.Split(s.Body, "\n") {
			fields := strings.Fields(line)
			if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			lineNo := s.Line + 1 + i
			src, err := InsidePath(path.Join(r.Context, fields[0]))
			if err != nil || path.IsAbs(fields[0]) {
				return nil, &ParseError{Path: r.Path, Line: lineNo, Msg: fmt.Sprintf("%%files source %s reaches outside the repository", fields[0])}
			}
			if err := insideAfterLinks(root, src); err != nil {
				return nil, &ParseError{Path: r.Path, Line: lineNo, Msg: err.Error()}
			}
			dst := "/" + strings.TrimPrefix(fields[0], "/")
			if len(fields) > 1 {
				dst = fields[1]
			}
			out = append(out, fileCopy{src: src, dst: dst})
		}
	}
	return out, nil
}

// insideAfterLinks refuses a path of the repository that a symbolic link
// takes outside it.
func insideAfterLinks(root, rel string) error {
	absRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	target, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return fmt.Errorf("%%files source %s: %v", rel, err)
	}
	if target != absRoot && !strings.HasPrefix(target, absRoot+string(filepath.Separator)) {
		return fmt.Errorf("%%files source %s leads outside the repository through a symbolic link", rel)
	}
	return nil
}

func (b *SIF) mount(ctx context.Context, req Request, ctr string) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "buildah", append(b.Buildah.global(), "mount", ctr)...)
	cmd.Stdout, cmd.Stderr = &out, req.Log
	if err := cmd.Run(); err != nil {
		return "", infra("buildah mount: %w", err)
	}
	return strings.TrimSpace(out.String()), nil
}

// image is the SIF's metadata: the definition file, labels (apptainer's,
// the recipe's, the declared metadata and the provenance), %environment
// and %runscript.
func (b *SIF) image(req Request, def *DefinitionFile, declared Declared) sif.Image {
	labels := map[string]string{
		"org.label-schema.schema-version":                      "1.0",
		"org.label-schema.build-arch":                          runtime.GOARCH,
		"org.label-schema.usage.singularity.deffile.bootstrap": def.Header["bootstrap"],
		"org.label-schema.usage.singularity.deffile.from":      def.Header["from"],
	}
	maps.Copy(labels, declared.Labels)
	maps.Copy(labels, mergeLabels(req, declared))
	img := sif.Image{DefFile: string(def.Raw), Labels: labels, Arch: runtime.GOARCH, Created: time.Now().UTC(),
		Environment: map[string]string{"/.singularity.d/env/90-environment.sh": "#!/bin/sh\n# Custom environment shell code should follow\n\n" + def.Section("environment")}}
	if rs := def.Section("runscript"); strings.TrimSpace(rs) != "" {
		img.Runscript = "#!/bin/sh\n\n" + rs
	}
	return img
}

// writeScripts writes the sections apptainer keeps as files beside the
// runscript: %startscript, %test, %help, and the definition file itself.
func writeScripts(root string, def *DefinitionFile) error {
	meta := filepath.Join(root, ".singularity.d")
	if err := os.MkdirAll(meta, 0o755); err != nil {
		return err
	}
	files := map[string]string{"Singularity": string(def.Raw)}
	if s := def.Section("startscript"); strings.TrimSpace(s) != "" {
		files["startscript"] = "#!/bin/sh\n\n" + s
	}
	if s := def.Section("test"); strings.TrimSpace(s) != "" {
		files["test"] = "#!/bin/sh\n\n" + s
	}
	if s := def.Section("help"); strings.TrimSpace(s) != "" {
		files["runscript.help"] = s
	}
	for name, body := range files {
		p := filepath.Join(meta, name)
		os.Remove(p) // never write through a link the base put there
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			return err
		}
	}
	return nil
}

func sectionLine(def *DefinitionFile, name string) int {
	for _, s := range def.Sections {
		if s.Name == name {
			return s.Line
		}
	}
	return 0
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
