package search

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/pkgdb"
)

// genVersion names the generator's output; the benchmark's cached index is
// keyed by it, so change it whenever the records below change.
const genVersion = "gen1"

// A generator makes plausible catalog records: Debian, Ubuntu, Alpine and
// Rocky bases with their distribution packages, Python stacks (numpy,
// scipy, pandas, pymatgen, torch, ...) at realistic versions, conda and R
// images, CUDA 11 and 12, SIF files, artifacts and multi-arch indexes.
// Record i depends only on the seed and i, so a benchmark can stream a
// hundred thousand of them without holding them all.
type generator struct {
	seed     uint64
	sysPkgs  int // distribution packages per image, roughly
	langPkgs int // language packages per Python, conda or R image, roughly
	perRepo  int // records per repository
}

type distro struct {
	os     pkgdb.OSRelease
	eco    string
	weight int
	// revision formats a package revision for update u (1..3).
	revision func(u int) string
}

var distros = []distro{
	{pkgdb.OSRelease{ID: "ubuntu", VersionID: "22.04", VersionCodename: "jammy", PrettyName: "Ubuntu 22.04.4 LTS"}, "deb", 25,
		func(u int) string { return fmt.Sprintf("-0ubuntu0.22.04.%d", u) }},
	{pkgdb.OSRelease{ID: "ubuntu", VersionID: "24.04", VersionCodename: "noble", PrettyName: "Ubuntu 24.04 LTS"}, "deb", 10,
		func(u int) string { return fmt.Sprintf("-1ubuntu%d", u) }},
	{pkgdb.OSRelease{ID: "ubuntu", VersionID: "20.04", VersionCodename: "focal", PrettyName: "Ubuntu 20.04.6 LTS"}, "deb", 8,
		func(u int) string { return fmt.Sprintf("-0ubuntu0.20.04.%d", u) }},
	{pkgdb.OSRelease{ID: "debian", VersionID: "12", VersionCodename: "bookworm", PrettyName: "Debian GNU/Linux 12 (bookworm)"}, "deb", 20,
		func(u int) string { return fmt.Sprintf("-1~deb12u%d", u) }},
	{pkgdb.OSRelease{ID: "debian", VersionID: "11", VersionCodename: "bullseye", PrettyName: "Debian GNU/Linux 11 (bullseye)"}, "deb", 7,
		func(u int) string { return fmt.Sprintf("-1+deb11u%d", u) }},
	{pkgdb.OSRelease{ID: "alpine", VersionID: "3.19.1", PrettyName: "Alpine Linux v3.19"}, "apk", 6,
		func(u int) string { return fmt.Sprintf("-r%d", u) }},
	{pkgdb.OSRelease{ID: "alpine", VersionID: "3.20.0", PrettyName: "Alpine Linux v3.20"}, "apk", 6,
		func(u int) string { return fmt.Sprintf("-r%d", u+2) }},
	{pkgdb.OSRelease{ID: "rocky", VersionID: "9.3", PrettyName: "Rocky Linux 9.3 (Blue Onyx)"}, "rpm", 5,
		func(u int) string { return fmt.Sprintf("-%d.el9", 20+u) }},
	{pkgdb.OSRelease{ID: "rocky", VersionID: "8.9", PrettyName: "Rocky Linux 8.9 (Green Obsidian)"}, "rpm", 3,
		func(u int) string { return fmt.Sprintf("-%d.el8", 10+u) }},
}

// corePkgs are in every image of a distribution; the rest of the system
// packages are drawn from sysPool.
var corePkgs = []string{
	"base-files", "bash", "coreutils", "libc6", "libssl3", "openssl", "zlib1g", "ca-certificates", "tar", "gzip",
	"sed", "grep", "findutils", "perl-base", "libstdc++6", "libgcc-s1", "ncurses-base", "util-linux", "login", "passwd",
	"curl", "libcurl4", "git", "make", "gcc", "g++", "libffi8", "libbz2-1.0", "liblzma5", "libzstd1",
}

// The pools and their versions are built once from a fixed seed, so that
// they are the same in every run.
var (
	sysPool    []string
	pyPool     []string
	cranPool   []string
	poolVers   = map[string][]string{} // language package → versions, oldest first
	syllables  = strings.Fields("ab ac al am an ar at ba be bi bo ca ce ci co da de di do el em en er fa fe fi ga ge gi go ha he hi ka ke ki ko la le li lo ma me mi mo na ne ni no pa pe pi po ra re ri ro sa se si so ta te ti to va ve vi xa xe yo za ze zo")
	namespaces []string
)

// pinned are the language packages the tests and benchmark queries name,
// with their real release histories.
var pinned = map[string][]string{
	"numpy":        {"1.21.6", "1.23.5", "1.24.0", "1.24.4", "1.26.0rc1", "1.26.0", "1.26.2", "1.26.4", "2.0.0", "2.0.1", "2.1.3"},
	"scipy":        {"1.9.3", "1.10.1", "1.11.0", "1.11.4", "1.12.0", "1.13.1", "1.14.1"},
	"pandas":       {"1.5.3", "2.0.3", "2.1.4", "2.2.0", "2.2.2"},
	"matplotlib":   {"3.6.3", "3.7.2", "3.8.2", "3.8.4", "3.9.0"},
	"pymatgen":     {"2023.5.31", "2023.12.18", "2024.2.8", "2024.6.10"},
	"ase":          {"3.22.1", "3.23.0"},
	"torch":        {"1.13.1", "2.0.1", "2.1.2", "2.2.0", "2.3.1"},
	"tensorflow":   {"2.13.1", "2.14.1", "2.15.0", "2.16.1"},
	"scikit-learn": {"1.2.2", "1.3.2", "1.4.0", "1.4.2", "1.5.0"},
	"jupyterlab":   {"3.6.7", "4.0.11", "4.1.5", "4.2.1"},
	"biopython":    {"1.81", "1.83"},
	"xarray":       {"2023.6.0", "2023.12.0", "2024.3.0"},
}

// stacks are the kinds of scientific image, with the packages that make
// them what they are.
var stacks = []struct {
	name, title, topic string
	pkgs               []string
	cudaShare          float64
	weight             int
}{
	{"numpy-stack", "Scientific Python", "numerical computing and data analysis", []string{"numpy", "scipy", "pandas", "matplotlib"}, 0, 25},
	{"pymatgen", "pymatgen", "materials science and crystal structures", []string{"pymatgen", "ase", "numpy", "scipy", "matplotlib"}, 0.4, 8},
	{"torch", "PyTorch", "deep learning on GPUs", []string{"torch", "numpy", "jupyterlab"}, 0.8, 15},
	{"tensorflow", "TensorFlow", "machine learning", []string{"tensorflow", "numpy", "pandas"}, 0.7, 8},
	{"sklearn", "scikit-learn", "machine learning on tabular data", []string{"scikit-learn", "numpy", "scipy", "pandas"}, 0, 10},
	{"bio", "Bioinformatics", "genomics pipelines", []string{"biopython", "numpy", "pandas"}, 0, 8},
	{"climate", "Climate tools", "climate model output analysis", []string{"xarray", "numpy", "scipy", "matplotlib"}, 0, 6},
	{"jupyter", "Jupyter notebook", "interactive notebooks", []string{"jupyterlab", "numpy", "pandas", "matplotlib"}, 0.2, 20},
}

func init() {
	r := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(syllables[r.IntN(len(syllables))])
		}
		return b.String()
	}
	sysPool = unique(1500, func() string { return "lib" + word(2+r.IntN(2)) + fmt.Sprint(r.IntN(10)) })
	pyPool = unique(600, func() string { return "py" + word(2+r.IntN(2)) })
	cranPool = unique(300, func() string { return "R" + word(2) })
	for _, name := range append(append([]string{}, pyPool...), cranPool...) {
		major, minor := r.IntN(5), r.IntN(30)
		var vs []string
		for range 3 + r.IntN(8) {
			vs = append(vs, fmt.Sprintf("%d.%d.%d", major, minor, r.IntN(12)))
			if minor += r.IntN(3); r.IntN(8) == 0 {
				major, minor = major+1, 0
			}
		}
		poolVers[name] = vs
	}
	for name, vs := range pinned {
		poolVers[name] = vs
	}
	namespaces = unique(250, func() string { return word(2) + "-lab" })
}

func unique(n int, next func() string) []string {
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		if s := next(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// sysVersion is the upstream version of a distribution package, the same
// for every image of one distribution.
func sysVersion(d int, name string) string {
	h := fnv(name) + uint64(d)*7919
	return fmt.Sprintf("%d.%d.%d", h%7, (h/7)%40, (h/280)%20)
}

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// pick draws an index with the given weights.
func pick(r *rand.Rand, weights func(i int) int, n int) int {
	total := 0
	for i := range n {
		total += weights(i)
	}
	x := r.IntN(total)
	for i := range n {
		if x -= weights(i); x < 0 {
			return i
		}
	}
	return n - 1
}

// newer draws from versions oldest first, favouring recent releases.
func newer(r *rand.Rand, vs []string) string {
	return vs[pick(r, func(i int) int { return (i + 1) * (i + 1) }, len(vs))]
}

var epoch = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)

// record makes record i. Records come in repositories of g.perRepo that
// share a namespace, distribution and stack.
func (g generator) record(i int) *catalog.Record {
	repoN := i / g.perRepo
	rr := rand.New(rand.NewPCG(g.seed, uint64(repoN)))
	r := rand.New(rand.NewPCG(g.seed^0x9e3779b97f4a7c15, uint64(i)))
	rec := &catalog.Record{
		Digest:  digest.Digest(fmt.Sprintf("sha256:%016x%016x", r.Uint64(), r.Uint64())),
		Kind:    []string{catalog.KindImage, catalog.KindIndex, catalog.KindSIF, catalog.KindArtifact}[pick(r, func(i int) int { return []int{72, 18, 8, 2}[i] }, 4)],
		Updated: epoch.Add(time.Duration(r.Int64N(int64(3.5 * 365 * 24 * time.Hour)))).Truncate(time.Second),
		Size:    int64(200<<20) + r.Int64N(12<<30),
	}
	ns := namespaces[rr.IntN(len(namespaces))]
	if rec.Kind == catalog.KindArtifact {
		rec.Repository = ns + "/results-" + fmt.Sprint(repoN)
		rec.OCI.Title = "Results of run " + fmt.Sprint(i)
		rec.Tags = []string{fmt.Sprintf("run-%d", i)}
		return rec
	}
	d := pick(rr, func(i int) int { return distros[i].weight }, len(distros))
	g.system(rec, r, d)
	switch x := rr.IntN(100); {
	case x < 10:
		g.rImage(rec, r, rr, ns, repoN)
	case x < 13:
		rec.Repository = fmt.Sprintf("%s/julia-%d", ns, repoN)
		rec.Runtimes = map[string]string{"julia": []string{"1.9.4", "1.10.2", "1.10.4"}[r.IntN(3)]}
	case x < 17:
		rec.Repository = fmt.Sprintf("%s/jdk-%d", ns, repoN)
		rec.Runtimes = map[string]string{"java": []string{"11.0.22", "17.0.10", "21.0.2"}[r.IntN(3)]}
	default:
		g.pythonImage(rec, r, rr, ns, repoN)
	}
	g.decorate(rec, r, ns)
	return rec
}

func (g generator) system(rec *catalog.Record, r *rand.Rand, d int) {
	dist := distros[d]
	rec.OS = dist.os
	rec.BaseImages = []catalog.ImageRef{{Repository: "library/" + dist.os.ID, Digest: digest.Digest(fmt.Sprintf("sha256:base%d", d)), Tag: dist.os.VersionID, Via: "layers"}}
	names := append([]string{}, corePkgs...)
	for len(names) < g.sysPkgs {
		names = append(names, sysPool[int(float64(len(sysPool))*r.Float64()*r.Float64())])
	}
	for _, name := range dedup(names) {
		v := sysVersion(d, name) + dist.revision(1+pick(r, func(i int) int { return i + 1 }, 3))
		rec.Packages = append(rec.Packages, catalog.Package{Name: name, Version: v, Ecosystem: dist.eco, Source: "var/lib/dpkg/status"})
	}
}

func (g generator) pythonImage(rec *catalog.Record, r, rr *rand.Rand, ns string, repoN int) {
	st := stacks[pick(rr, func(i int) int { return stacks[i].weight }, len(stacks))]
	rec.Repository = fmt.Sprintf("%s/%s-%d", ns, st.name, repoN)
	rec.OCI.Title = st.title
	rec.OCI.Description = fmt.Sprintf("%s environment for %s, maintained by %s", st.title, st.topic, ns)
	py := newer(r, []string{"3.8.18", "3.9.18", "3.10.12", "3.10.13", "3.11.4", "3.11.7", "3.11.9", "3.12.1", "3.12.4"})
	rec.Runtimes = map[string]string{"python": py}
	if rec.OS.ID == "ubuntu" && r.Float64() < st.cudaShare {
		rec.CUDA = newer(r, []string{"11.8.0", "12.1.1", "12.2.2", "12.4.1"})
	}
	eco := "python"
	if rr.IntN(7) == 0 {
		eco = "conda"
	}
	names := append([]string{"pip", "setuptools", "wheel"}, st.pkgs...)
	for len(names) < g.langPkgs {
		names = append(names, pyPool[int(float64(len(pyPool))*r.Float64()*r.Float64())])
	}
	g.lang(rec, r, eco, names)
}

func (g generator) rImage(rec *catalog.Record, r, rr *rand.Rand, ns string, repoN int) {
	rec.Repository = fmt.Sprintf("%s/r-%d", ns, repoN)
	rec.OCI.Title = "R environment"
	rec.OCI.Description = "R with CRAN packages for statistics, maintained by " + ns
	rec.Runtimes = map[string]string{"r": newer(r, []string{"4.1.3", "4.2.3", "4.3.2", "4.3.3", "4.4.1"})}
	names := []string{}
	for len(names) < g.langPkgs {
		names = append(names, cranPool[int(float64(len(cranPool))*r.Float64()*r.Float64())])
	}
	g.lang(rec, r, "r", names)
}

func (g generator) lang(rec *catalog.Record, r *rand.Rand, eco string, names []string) {
	for _, name := range dedup(names) {
		v := "23.3.1"
		if vs := poolVers[name]; vs != nil {
			v = newer(r, vs)
		}
		rec.Packages = append(rec.Packages, catalog.Package{Name: name, Version: v, Ecosystem: eco, Source: "site-packages"})
	}
}

// decorate adds what every kind of image has: platforms, tags, labels,
// licenses.
func (g generator) decorate(rec *catalog.Record, r *rand.Rand, ns string) {
	switch rec.Kind {
	case catalog.KindIndex:
		rec.Platforms = []string{"linux/amd64", "linux/arm64/v8"}
		if r.IntN(5) == 0 {
			rec.Platforms = append(rec.Platforms, "linux/ppc64le")
		}
	case catalog.KindSIF:
		rec.SIF = &catalog.SIFInfo{Arch: "amd64", Labels: map[string]string{"org.example.app": strings.Split(rec.Repository, "/")[1]}}
	default:
		rec.Platforms = []string{[]string{"linux/amd64", "linux/amd64", "linux/amd64", "linux/arm64"}[r.IntN(4)]}
	}
	rec.Tags = []string{rec.Updated.Format("2006.01")}
	if py := rec.Runtimes["python"]; py != "" {
		rec.Tags = append(rec.Tags, "py"+majorMinor(py))
	}
	if r.IntN(10) == 0 {
		rec.Tags = append(rec.Tags, "latest")
	}
	rec.OCI.Licenses = []string{"MIT", "MIT", "Apache-2.0", "BSD-3-Clause", "GPL-3.0-only", "MIT OR Apache-2.0"}[r.IntN(6)]
	rec.Labels = map[string]string{"org.example.team": ns, "maintainer": ns + "@example.org"}
	if rec.CUDA != "" {
		rec.Labels["org.example.gpu"] = "true"
	}
}
