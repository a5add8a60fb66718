package sif

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// FromConfig is the Image apptainer makes of the registry image ref whose
// OCI config is cfg: the bootstrap definition file, the config's labels
// and environment, and a runscript running its entrypoint and command.
func FromConfig(ref string, cfg v1.ImageConfig, arch string) Image {
	def := DockerDefFile(ref)
	labels := map[string]string{
		"org.label-schema.schema-version":                      "1.0",
		"org.label-schema.build-arch":                          arch,
		"org.label-schema.usage.singularity.deffile.bootstrap": "docker",
		"org.label-schema.usage.singularity.deffile.from":      ref,
	}
	maps.Copy(labels, cfg.Labels)
	return Image{
		DefFile:     def,
		Config:      &cfg,
		Labels:      labels,
		Environment: map[string]string{"/" + envDir + "/10-docker2singularity.sh": dockerEnv(cfg.Env)},
		Runscript:   dockerRunscript(cfg),
		Arch:        arch,
	}
}

// dockerEnv exports the config's variables, each unless already set, as
// apptainer's 10-docker2singularity.sh does.
func dockerEnv(env []string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "export %s=\"${%s:-%s}\"\n", k, k, strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`").Replace(v))
	}
	return b.String()
}

// dockerRunscript runs the entrypoint with the command, or the arguments
// given in its place, as apptainer's generated runscript does.
func dockerRunscript(cfg v1.ImageConfig) string {
	return "#!/bin/sh\n" +
		"OCI_ENTRYPOINT=" + shellQuote(shellWords(cfg.Entrypoint)) + "\n" +
		"OCI_CMD=" + shellQuote(shellWords(cfg.Cmd)) + "\n" +
		`CMDLINE_ARGS=""
if [ $# -gt 0 ]; then
    for arg in "$@"; do
        CMDLINE_ARGS="${CMDLINE_ARGS} '$(printf '%s' "$arg" | sed "s/'/'\\\\''/g")'"
    done
else
    CMDLINE_ARGS="${OCI_CMD}"
fi
eval "set -- ${OCI_ENTRYPOINT} ${CMDLINE_ARGS}"
if [ $# -eq 0 ]; then
    echo "no entrypoint or command to run" >&2
    exit 1
fi
exec "$@"
`
}

// shellWords quotes each word for sh and joins them.
func shellWords(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = shellQuote(w)
	}
	return strings.Join(quoted, " ")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// The action scripts apptainer puts in every image: each sources the
// environment scripts, then runs its command.
const sourceEnv = "#!/bin/sh\nfor script in /.singularity.d/env/*.sh; do\n    if [ -f \"$script\" ]; then\n        . \"$script\"\n    fi\ndone\n"

var actions = map[string]string{
	"exec":  sourceEnv + "exec \"$@\"\n",
	"run":   sourceEnv + "if [ -x /.singularity.d/runscript ]; then\n    exec /.singularity.d/runscript \"$@\"\nfi\necho \"There is no runscript in the container\" >&2\nexit 1\n",
	"shell": sourceEnv + "exec /bin/sh \"$@\"\n",
	"start": sourceEnv + "if [ -x /.singularity.d/startscript ]; then\n    exec /.singularity.d/startscript \"$@\"\nfi\n",
	"test":  sourceEnv + "if [ -x /.singularity.d/test ]; then\n    exec /.singularity.d/test \"$@\"\nfi\necho \"No test script found in container, exiting\" >&2\nexit 0\n",
}

// baseEnv are the boilerplate environment scripts; 90-environment.sh is
// where a definition file's %environment goes.
var baseEnv = map[string]string{
	"01-base.sh":        "#!/bin/sh\n",
	"90-environment.sh": "#!/bin/sh\n# Custom environment shell code should follow\n",
	"94-appsbase.sh":    "#!/bin/sh\n",
	"95-apps.sh":        "#!/bin/sh\n",
	"99-base.sh":        "#!/bin/sh\nif [ -z \"$LD_LIBRARY_PATH\" ]; then\n    LD_LIBRARY_PATH=\"/.singularity.d/libs\"\nelse\n    LD_LIBRARY_PATH=\"$LD_LIBRARY_PATH:/.singularity.d/libs\"\nfi\nPS1=\"Apptainer> \"\nexport LD_LIBRARY_PATH PS1\n",
	"99-runtimevars.sh": "#!/bin/sh\n",
}

// mountPoints are the directories apptainer binds onto; they exist in
// every image it builds.
var mountPoints = []string{"dev", "proc", "sys", "tmp", "var/tmp", "home", "root", "etc", "mnt", "opt", "srv"}

// Prepare writes apptainer's metadata tree into the root filesystem dir:
// /.singularity.d with its action scripts, environment scripts (img's
// among them), runscript and labels.json, the compatibility symlinks, and
// the mount points. What the image already has in those places is
// replaced only where img says otherwise.
func Prepare(dir string, img Image) error {
	meta := filepath.Join(dir, metaDir)
	if fi, err := os.Lstat(meta); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if err := os.Remove(meta); err != nil { // never write through a link
			return err
		}
	}
	for _, d := range append(slices.Clone(mountPoints), metaDir+"/actions", envDir, metaDir+"/libs") {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	files := map[string]string{}
	for name, body := range actions {
		files[filepath.Join(meta, "actions", name)] = body
	}
	for name, body := range baseEnv {
		files[filepath.Join(meta, "env", name)] = body
	}
	for p, body := range img.Environment {
		files[filepath.Join(dir, filepath.Clean("/"+p))] = body
	}
	if img.Runscript != "" {
		files[filepath.Join(dir, runscriptPath)] = img.Runscript
	}
	labels, err := json.MarshalIndent(img.Labels, "", "\t")
	if err != nil {
		return err
	}
	files[filepath.Join(dir, rootLabelsPath)] = string(labels)
	for p, body := range files {
		if err := writeReplacing(p, body); err != nil {
			return err
		}
	}
	return symlinks(dir)
}

// writeReplacing writes an executable file, replacing a symlink or file
// there rather than writing through it.
func writeReplacing(p, body string) error {
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(p, []byte(body), 0o755)
}

// symlinks are the compatibility links of Singularity 2 images.
func symlinks(dir string) error {
	for name, target := range map[string]string{
		"singularity": ".singularity.d/runscript",
		"environment": ".singularity.d/env/90-environment.sh",
		".exec":       ".singularity.d/actions/exec",
		".run":        ".singularity.d/actions/run",
		".shell":      ".singularity.d/actions/shell",
		".test":       ".singularity.d/actions/test",
	} {
		p := filepath.Join(dir, name)
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
		if err := os.Symlink(target, p); err != nil {
			return err
		}
	}
	return nil
}
