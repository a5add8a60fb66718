package sif

import (
	"errors"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/oyster-registry/oyster/oci"
)

// Where apptainer keeps a container's metadata inside its root filesystem.
const (
	metaDir        = ".singularity.d"
	envDir         = metaDir + "/env"
	runscriptPath  = metaDir + "/runscript"
	rootLabelsPath = metaDir + "/labels.json"
)

// boilerplateEnv are the environment scripts apptainer puts in every
// image; they say nothing about this one.
var boilerplateEnv = map[string]bool{
	"01-base.sh": true, "94-appsbase.sh": true, "95-apps.sh": true, "99-base.sh": true, "99-runtimevars.sh": true,
}

// finish reads the metadata files of the root filesystem, falls back to
// the inspect metadata object for what it lacks, and layers the labels.
func (rd *reader) finish() {
	switch {
	case rd.info.Root != nil:
		rd.readRootfs(rd.info.Root)
	case !rd.primary:
		rd.problem("no primary system partition: contents not indexed")
	}
	in := rd.inspect
	if rd.info.DefFile == "" {
		rd.info.DefFile = in.Deffile
	}
	if rd.info.Runscript == "" {
		rd.info.Runscript = in.Runscript
	}
	if rd.info.Env == "" {
		for _, p := range slices.Sorted(maps.Keys(in.Environment)) {
			rd.info.Env += envSection(p, in.Environment[p])
		}
	}
	for _, l := range []map[string]string{rd.ociLabels, rd.objectLabels, rd.rootfsLabels, in.Labels} {
		rd.info.Labels = merge(rd.info.Labels, l)
	}
}

func (rd *reader) readRootfs(root fs.FS) {
	if b, ok := rd.file(root, rootLabelsPath); ok {
		labels, err := parseLabels(b)
		if err != nil {
			rd.problem("/%s: %v", rootLabelsPath, err)
		}
		rd.rootfsLabels = labels
	}
	if b, ok := rd.file(root, runscriptPath); ok {
		rd.info.Runscript = string(b)
	}
	rd.info.Env = rd.env(root)
}

// env concatenates the environment scripts in the order apptainer sources
// them, which is by name.
func (rd *reader) env(root fs.FS) string {
	entries, err := fs.ReadDir(root, envDir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			rd.problem("/%s: %v", envDir, err)
		}
		return ""
	}
	var out strings.Builder
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sh") || boilerplateEnv[e.Name()] {
			continue
		}
		p := path.Join(envDir, e.Name())
		if b, ok := rd.file(root, p); ok {
			out.WriteString(envSection("/"+p, string(b)))
		}
	}
	return out.String()
}

// envSection heads a script with its path as a shell comment, so that the
// whole stays a valid script.
func envSection(p, script string) string {
	if script != "" && !strings.HasSuffix(script, "\n") {
		script += "\n"
	}
	return "# " + p + "\n" + script
}

// file reads a small file of the root filesystem, following symlinks; a
// missing file is not a problem, an unreadable or oversized one is.
func (rd *reader) file(root fs.FS, p string) ([]byte, bool) {
	most := rd.limits.FileBytes()
	f, err := root.Open(p)
	var le *oci.LimitError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false
	case errors.As(err, &le) && le.Limit == oci.LimitFileBytes:
		rd.problem("/%s: over the limit of %d bytes", p, most)
		return nil, false
	case err != nil:
		rd.problem("%v", err) // a PathError, which names the file
		return nil, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, most+1))
	switch {
	case err != nil:
		rd.problem("%v", err)
	case int64(len(b)) > most:
		rd.problem("/%s: over the limit of %d bytes", p, most)
	default:
		return b, true
	}
	return nil, false
}
