package scan

import (
	"regexp"
	"sort"
	"strings"

	"github.com/oyster-registry/oyster/catalog/pkgdb"
	"github.com/oyster-registry/oyster/catalog/version"
)

// Runtime is a language runtime an image provides.
type Runtime struct {
	Name    string `json:"name"` // python, r, julia, java
	Version string `json:"version"`
	// Evidence says where the version was read, for people checking why an
	// image matched ("deb python3.11-minimal", "env PYTHON_VERSION").
	Evidence string `json:"evidence"`
}

// Inferred holds the facts inferred from an image's merged layers and its
// config, which the search facets are built on.
type Inferred struct {
	// Runtimes are sorted by name, then version; an image may well have two
	// Pythons (the distribution's and conda's).
	Runtimes     []Runtime `json:"runtimes,omitempty"`
	CUDA         string    `json:"cuda,omitempty"`
	CUDAEvidence string    `json:"cudaEvidence,omitempty"`
}

// runtimePackage says which installed package reveals a runtime's version.
type runtimePackage struct {
	runtime   string
	ecosystem pkgdb.Ecosystem
	name      *regexp.Regexp
}

var runtimePackages = []runtimePackage{
	{"python", pkgdb.Deb, regexp.MustCompile(`^python\d+\.\d+(-minimal)?$`)},
	{"python", pkgdb.APK, regexp.MustCompile(`^python3$`)},
	{"python", pkgdb.RPM, regexp.MustCompile(`^python3(\.\d+)?$`)},
	{"python", pkgdb.Conda, regexp.MustCompile(`^python$`)},
	{"r", pkgdb.Deb, regexp.MustCompile(`^r-base-core$`)},
	{"r", pkgdb.RPM, regexp.MustCompile(`^R-core$`)},
	{"r", pkgdb.APK, regexp.MustCompile(`^R$`)},
	{"r", pkgdb.Conda, regexp.MustCompile(`^r-base$`)},
	{"r", pkgdb.R, regexp.MustCompile(`^base$`)}, // R's own base package carries R's version
	{"julia", pkgdb.Deb, regexp.MustCompile(`^julia$`)},
	{"julia", pkgdb.Conda, regexp.MustCompile(`^julia$`)},
	{"java", pkgdb.Deb, regexp.MustCompile(`^openjdk-\d+-(jre|jdk)(-headless)?$`)},
	{"java", pkgdb.RPM, regexp.MustCompile(`^java-[\d.]+-openjdk(-headless|-devel)?$`)},
	{"java", pkgdb.APK, regexp.MustCompile(`^openjdk\d+(-jre|-jdk)?(-headless)?$`)},
	{"java", pkgdb.Conda, regexp.MustCompile(`^openjdk$`)},
}

// runtimeEnv are the variables official and community images set (python,
// julia, eclipse-temurin, rocker).
var runtimeEnv = map[string]string{
	"PYTHON_VERSION": "python", "R_VERSION": "r", "JULIA_VERSION": "julia", "JAVA_VERSION": "java",
}

// Infer infers runtimes and the CUDA version from the merged layers, the
// config's environment (KEY=value strings) and its labels.
func Infer(img ImageFacts, env []string, labels map[string]string) Inferred {
	envMap := parseEnv(env)
	var found []Runtime
	for _, p := range img.Packages {
		for _, rp := range runtimePackages {
			if p.Ecosystem == rp.ecosystem && rp.name.MatchString(p.Name) {
				found = append(found, Runtime{rp.runtime, upstreamVersion(p), string(p.Ecosystem) + " " + p.Name})
			}
		}
	}
	for key, name := range runtimeEnv {
		if v := envMap[key]; v != "" {
			found = append(found, Runtime{name, strings.TrimPrefix(strings.TrimPrefix(v, "jdk-"), "jdk"), "env " + key})
		}
	}
	for _, f := range img.Findings {
		if f.Kind == FilePythonLib {
			found = append(found, Runtime{"python", f.Version, "path " + f.Path})
		}
	}
	d := Inferred{Runtimes: dedupeRuntimes(found)}
	d.CUDA, d.CUDAEvidence = cudaVersion(img, envMap, labels)
	return d
}

func parseEnv(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// upstreamVersion strips what a distribution adds to a runtime's version:
// the epoch and the packaging revision ("1:3.11.2-6+deb12u1" → "3.11.2").
func upstreamVersion(p pkgdb.Package) string {
	v := p.Version
	if p.Ecosystem != pkgdb.Deb && p.Ecosystem != pkgdb.RPM && p.Ecosystem != pkgdb.APK {
		return v
	}
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i > 0 {
		v = v[:i]
	}
	return v
}

// dedupeRuntimes keeps one entry per runtime and version, and drops a
// version that only restates a more precise one (python 3.11 from a
// lib/python3.11 path when 3.11.7 is known).
func dedupeRuntimes(found []Runtime) []Runtime {
	var out []Runtime
	for i, r := range found {
		if r.Version == "" || shadowed(r, i, found) {
			continue
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return version.Compare(version.Generic, out[i].Version, out[j].Version) < 0
	})
	return out
}

// shadowed reports whether found[i] repeats an earlier entry's version or
// is a less precise prefix of another entry's.
func shadowed(r Runtime, i int, found []Runtime) bool {
	for j, o := range found {
		if j == i || o.Name != r.Name {
			continue
		}
		if (o.Version == r.Version && j < i) || (o.Version != r.Version && isComponentPrefix(r.Version, o.Version)) {
			return true
		}
	}
	return false
}

func isComponentPrefix(short, long string) bool {
	return strings.HasPrefix(long, short+".")
}

var (
	requireCUDA = regexp.MustCompile(`cuda>=(\d+(?:\.\d+)*)`)
	cudartName  = regexp.MustCompile(`^cuda-cudart-(\d+)-(\d+)$`)
)

// cudaVersion picks the CUDA toolkit version from the most direct evidence
// available: the toolkit's own version file, then what NVIDIA's images
// declare, then packages, then the minimum a driver must support.
func cudaVersion(img ImageFacts, env map[string]string, labels map[string]string) (string, string) {
	if v, path := highestCUDAFile(img.Findings); v != "" {
		return v, "file " + path
	}
	if v := env["CUDA_VERSION"]; v != "" {
		return v, "env CUDA_VERSION"
	}
	if v := labels["com.nvidia.cuda.version"]; v != "" {
		return v, "label com.nvidia.cuda.version"
	}
	if v, ev := cudaFromPackages(img.Packages); v != "" {
		return v, ev
	}
	if m := requireCUDA.FindStringSubmatch(env["NVIDIA_REQUIRE_CUDA"]); m != nil {
		return m[1], "env NVIDIA_REQUIRE_CUDA"
	}
	return "", ""
}

// highestCUDAFile returns the newest toolkit when several are installed side
// by side (usr/local/cuda-11.8 and usr/local/cuda-12.2).
func highestCUDAFile(findings []Finding) (v, path string) {
	for _, f := range findings {
		if f.Kind == FileCUDA && f.Version != "" && version.Compare(version.Generic, f.Version, v) > 0 {
			v, path = f.Version, f.Path
		}
	}
	return v, path
}

func cudaFromPackages(pkgs []pkgdb.Package) (string, string) {
	for _, p := range pkgs {
		switch {
		case p.Ecosystem == pkgdb.Conda && (p.Name == "cuda-version" || p.Name == "cudatoolkit"):
			return p.Version, "conda " + p.Name
		case (p.Ecosystem == pkgdb.Deb || p.Ecosystem == pkgdb.RPM) && cudartName.MatchString(p.Name):
			m := cudartName.FindStringSubmatch(p.Name)
			return m[1] + "." + m[2], string(p.Ecosystem) + " " + p.Name
		case p.Ecosystem == pkgdb.Python && strings.HasPrefix(p.NormalizedName, "nvidia-cuda-runtime-cu"):
			return p.Version, "python " + p.NormalizedName
		}
	}
	return "", ""
}
