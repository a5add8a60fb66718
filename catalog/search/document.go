package search

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/oyster-registry/oyster/catalog"
)

// updatedLayout is fixed width, so that updated times sort as strings.
const updatedLayout = "2006-01-02T15:04:05Z"

// document turns a record into the flat field map the mapping expects.
// Values are normalised here and in the query parser alike, so that what a
// person types (scikit_learn, x86_64, mit) finds what an image contains.
func document(rec *catalog.Record) map[string]interface{} {
	d := map[string]interface{}{
		fName: rec.Repository, fRepo: rec.Repository, fNS: namespace(rec.Repository),
		fDigest: rec.Digest.String(), fKind: rec.Kind, fUpdated: rec.Updated.UTC().Format(updatedLayout),
		fSize: strconv.FormatInt(rec.Size, 10),
	}
	set(d, fTitle, rec.OCI.Title)
	set(d, fDesc, rec.OCI.Description)
	setAll(d, fTag, rec.Tags)
	setAll(d, fTagText, rec.Tags)
	arches := addPlatforms(d, rec)
	addOS(d, rec)
	addRuntimes(d, rec)
	addPackages(d, rec.Packages)
	addLabels(d, rec)
	setAll(d, fLicense, licenses(rec.OCI.Licenses))
	setAll(d, fBase, baseForms(rec))
	setAll(d, fFacts, facts(rec, arches))
	return d
}

func set(d map[string]interface{}, field, v string) {
	if v != "" {
		d[field] = v
	}
}

func setAll(d map[string]interface{}, field string, vs []string) {
	if len(vs) > 0 {
		d[field] = vs
	}
}

// namespace is the first path component of a repository name.
func namespace(repo string) string {
	ns, _, _ := strings.Cut(repo, "/")
	return ns
}

// addPlatforms indexes each platform whole and without its variant, so
// platform:linux/arm64 finds linux/arm64/v8, and returns the architectures.
func addPlatforms(d map[string]interface{}, rec *catalog.Record) []string {
	platforms := rec.Platforms
	if len(platforms) == 0 && rec.SIF != nil && rec.SIF.Arch != "" {
		platforms = []string{"linux/" + rec.SIF.Arch}
	}
	var forms, arches []string
	for _, p := range platforms {
		parts := strings.Split(p, "/")
		forms = append(forms, p)
		if len(parts) >= 2 {
			forms = append(forms, parts[0]+"/"+parts[1])
			arches = append(arches, normArch(parts[1]))
		}
	}
	setAll(d, fPlatforms, platforms)
	setAll(d, fPlatform, dedup(forms))
	arches = dedup(arches)
	setAll(d, fArch, arches)
	return arches
}

// archAliases maps the names distributions and uname use to the OCI ones.
var archAliases = map[string]string{
	"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm",
	"ppc64el": "ppc64le", "i386": "386", "i686": "386",
}

func normArch(a string) string {
	a = strings.ToLower(a)
	if n, ok := archAliases[a]; ok {
		return n
	}
	return a
}

func addOS(d map[string]interface{}, rec *catalog.Record) {
	o := rec.OS
	if o.ID == "" {
		return
	}
	id := strings.ToLower(o.ID)
	d[fOS] = id
	d[fOSRel] = id + ":" + o.VersionID
	pretty := o.PrettyName
	if pretty == "" {
		pretty = strings.TrimSpace(o.ID + " " + o.VersionID)
	}
	d[fOSPretty] = pretty
}

// runtimeFields are the Record.Runtimes keys the index knows.
var runtimeFields = map[string]string{"python": fPython, "r": fR, "julia": fJulia, "java": fJava}

func addRuntimes(d map[string]interface{}, rec *catalog.Record) {
	for name, v := range rec.Runtimes {
		if f, ok := runtimeFields[name]; ok {
			set(d, f, v)
		}
	}
	set(d, fCUDA, rec.CUDA)
}

func addPackages(d map[string]interface{}, pkgs []catalog.Package) {
	var lang []string
	pv := map[string][]string{}
	for _, p := range pkgs {
		eco := p.Ecosystem
		if !slices.Contains(ecosystems, eco) {
			eco = otherEcosystem
		}
		name := normName(eco, p.Name)
		if name == "" {
			continue
		}
		if langEcosystems[eco] {
			lang = append(lang, name)
		}
		pv[eco] = append(pv[eco], name+"="+p.Version)
	}
	lang = dedup(lang)
	setAll(d, fLangPkg, lang)
	setAll(d, fPkgText, lang)
	for eco, terms := range pv {
		d[pvPrefix+eco] = terms
	}
}

var pep503 = regexp.MustCompile(`[-_.]+`)

// normName folds a package name the way its ecosystem matches names: PEP
// 503 for Python, case-insensitive for the rest.
func normName(ecosystem, name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if ecosystem == "python" {
		name = pep503.ReplaceAllString(name, "-")
	}
	return name
}

func addLabels(d map[string]interface{}, rec *catalog.Record) {
	var labels, annots, text []string
	addKV := func(dst *[]string, m map[string]string) {
		for k, v := range m {
			*dst = append(*dst, k+"="+v)
			text = append(text, v)
		}
	}
	addKV(&labels, rec.Labels)
	if rec.SIF != nil {
		addKV(&labels, rec.SIF.Labels)
	}
	addKV(&annots, rec.Annotations)
	text = append(text, rec.OCI.Vendor, rec.OCI.Authors)
	setAll(d, fLabel, dedup(labels))
	setAll(d, fAnnot, annots)
	setAll(d, fLabelText, dedup(text))
}

// licenses splits an SPDX expression ("MIT OR (Apache-2.0 WITH LLVM-exception)")
// or a comma list into identifiers; exception names after WITH are not
// licenses and are dropped.
func licenses(expr string) []string {
	var ids []string
	words := strings.FieldsFunc(expr, func(r rune) bool { return strings.ContainsRune(" \t(),;", r) })
	for i := 0; i < len(words); i++ {
		switch strings.ToUpper(words[i]) {
		case "AND", "OR":
		case "WITH":
			i++
		default:
			ids = append(ids, words[i])
		}
	}
	return dedup(ids)
}

// baseForms lists every way a person may name a base image: repository,
// repository:tag, digest and repository@digest, for relations found by the
// catalog and for the org.opencontainers.image.base.* annotations.
func baseForms(rec *catalog.Record) []string {
	var forms []string
	for _, b := range rec.BaseImages {
		ref := catalog.Ref{Repo: b.Repository, Digest: b.Digest}
		forms = append(forms, b.Repository, b.Digest.String(), ref.String())
		if b.Tag != "" {
			forms = append(forms, b.Repository+":"+b.Tag)
		}
	}
	if name := rec.OCI.BaseName; name != "" {
		short := strings.TrimPrefix(strings.TrimPrefix(name, "docker.io/"), "library/")
		forms = append(forms, name, short, refRepository(name), refRepository(short))
	}
	if rec.OCI.BaseDigest != "" {
		forms = append(forms, rec.OCI.BaseDigest)
	}
	return dedup(forms)
}

// refRepository strips the tag or digest from a reference; the tag colon
// is the one after the last slash, not a registry's port.
func refRepository(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	slash := strings.LastIndexByte(ref, '/')
	if colon := strings.LastIndexByte(ref, ':'); colon > slash {
		ref = ref[:colon]
	}
	return ref
}

// facts are words that let free text like "python 3.11 cuda 12 ubuntu"
// find images whose metadata, not text, says so. Versions are given whole
// and as major.minor (and major for CUDA), because tokens match exactly.
func facts(rec *catalog.Record, arches []string) []string {
	out := append([]string{rec.Kind, rec.OS.ID, rec.OS.VersionID, rec.OS.VersionCodename}, arches...)
	for name, v := range rec.Runtimes {
		out = append(out, name, v, majorMinor(v))
	}
	if rec.CUDA != "" {
		major, _, _ := strings.Cut(rec.CUDA, ".")
		out = append(out, "cuda", rec.CUDA, majorMinor(rec.CUDA), major)
	}
	return dedup(out)
}

// majorMinor keeps the first two dot-separated components of a version.
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// dedup drops empty and repeated strings, keeping the first occurrence.
func dedup(vs []string) []string {
	seen := make(map[string]bool, len(vs))
	out := vs[:0:0]
	for _, v := range vs {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
