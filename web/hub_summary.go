package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/oyster-registry/oyster/catalog"
)

// Image summaries for hubs: one choice per tag of each image, with a
// unique display name, a stable slug and a one-line plain-text summary.

// hubChoice is one tagged image a hub can start.
type hubChoice struct {
	Name        string // display name, unique within one answer
	Description string
	Slug        string // stable for a repository and tag
	Image       string // host/repository@digest
}

// hubEntry is one tag of one record while the choices are assembled.
type hubEntry struct {
	rec      *catalog.Record
	tag      string
	name     string // display name before it is made unique
	sortName string
	text     *recordText
}

// recordText is the plain text the tags of one record share, worked out
// once per record: it is most of the work of an answer.
type recordText struct {
	title, description, details string
}

func newRecordText(rec *catalog.Record) *recordText {
	return &recordText{
		title:       plainText(rec.OCI.Title, 80),
		description: plainText(rec.OCI.Description, 160),
		details:     plainText(recordDetails(rec), 240),
	}
}

// hubChoices turns the records HubImages chose into one choice per tag,
// ordered by display name (newest first among equals).
func hubChoices(recs []*catalog.Record, host string) []hubChoice {
	entries := make([]hubEntry, 0, 2*len(recs))
	for _, rec := range recs {
		text := newRecordText(rec)
		for _, tag := range rec.Tags {
			name := text.title
			if name == "" {
				name = rec.Repository + ":" + tag
			}
			entries = append(entries, hubEntry{rec, tag, name, strings.ToLower(name), text})
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].less(&entries[j]) })
	names := uniqueNames(entries)
	slugs := map[string]bool{}
	out := make([]hubChoice, len(entries))
	for i, e := range entries {
		out[i] = hubChoice{
			Name:        names[i],
			Description: e.describe(),
			Slug:        unique(slugFor(e.rec.Repository, e.tag), slugs, "-"),
			Image:       host + "/" + e.rec.Ref().String(),
		}
	}
	return out
}

func (e *hubEntry) less(o *hubEntry) bool {
	switch {
	case e.sortName != o.sortName:
		return e.sortName < o.sortName
	case !e.rec.Updated.Equal(o.rec.Updated):
		return e.rec.Updated.After(o.rec.Updated)
	case e.rec.Repository != o.rec.Repository:
		return e.rec.Repository < o.rec.Repository
	}
	return e.tag < o.tag
}

// uniqueNames makes display names unique, because DockerSpawner keys its
// choices by them: a name several images share gets repository:tag added.
func uniqueNames(entries []hubEntry) []string {
	count := map[string]int{}
	for _, e := range entries {
		count[e.name]++
	}
	seen := map[string]bool{}
	names := make([]string, len(entries))
	for i, e := range entries {
		name := e.name
		if count[name] > 1 {
			name += " (" + e.rec.Repository + ":" + e.tag + ")"
		}
		names[i] = unique(name, seen, " #")
	}
	return names
}

// unique returns s, or s with sep and a counter when seen already holds
// it, and records the result in seen.
func unique(s string, seen map[string]bool, sep string) string {
	out := s
	for n := 2; seen[out]; n++ {
		out = fmt.Sprintf("%s%s%d", s, sep, n)
	}
	seen[out] = true
	return out
}

// slugFor names a repository and tag in KubeSpawner's form fields: lower
// case letters, digits and single dashes (KubeSpawner splits field names
// on "--"). It depends on nothing but the repository and tag, so a user's
// saved choice still names the same tag after other images come and go;
// the hash keeps "a/b:c" and "a-b:c" apart.
func slugFor(repo, tag string) string {
	sum := sha256.Sum256([]byte(repo + ":" + tag))
	var b strings.Builder
	b.Grow(64)
	dash := false // a run of other characters becomes one dash
	for _, c := range []byte(strings.ToLower(repo + "-" + tag)) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			dash = b.Len() > 0
			continue
		}
		if b.Len() >= 48 {
			break
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		b.WriteByte(c)
	}
	if b.Len() > 0 {
		b.WriteByte('-')
	}
	return b.String() + hex.EncodeToString(sum[:6])
}

// runtimeNames are the runtimes a description names, in this order.
var runtimeNames = []struct{ key, name string }{{"python", "Python"}, {"r", "R"}, {"julia", "Julia"}}

// describe is a profile's one-line summary: the image's description, the
// tag it came from, then the record's details. Repository names and tags
// need no cleaning: their grammar admits nothing HTML-significant.
func (e *hubEntry) describe() string {
	parts := make([]string, 0, 3)
	if e.text.description != "" {
		parts = append(parts, e.text.description)
	}
	parts = append(parts, e.rec.Repository+":"+e.tag)
	if e.text.details != "" {
		parts = append(parts, e.text.details)
	}
	return strings.Join(parts, " · ")
}

// recordDetails names the runtimes, CUDA, key packages and download size.
func recordDetails(rec *catalog.Record) string {
	var parts []string
	for _, rt := range runtimeNames {
		if v := rec.Runtimes[rt.key]; v != "" {
			parts = append(parts, rt.name+" "+v)
		}
	}
	if rec.CUDA != "" {
		parts = append(parts, "CUDA "+rec.CUDA)
	}
	if p := keyPackages(rec.Packages, 4); p != "" {
		parts = append(parts, p)
	}
	if rec.Size > 0 {
		parts = append(parts, humanSize(rec.Size))
	}
	return strings.Join(parts, " · ")
}

// notablePackages are the packages worth naming in a one-line summary,
// most distinctive first, by lower-case name with "_" and "." as "-".
// notableShapes has, for each name length, a bit per lower-case first
// letter, which turns most other names away before a map lookup.
var notablePackages, notableShapes = func() (map[string]int, [16]uint32) {
	names := []string{
		"torch", "pytorch", "tensorflow", "jax", "pymatgen", "ase", "astropy",
		"biopython", "rdkit", "xarray", "pandas", "scipy", "numpy", "scikit-learn",
		"dask", "numba", "cupy", "matplotlib", "tidyverse", "ggplot2", "jupyterlab",
	}
	rank := make(map[string]int, len(names))
	var shapes [16]uint32
	for i, n := range names {
		rank[n] = i
		shapes[len(n)] |= 1 << (n[0] - 'a')
	}
	return rank, shapes
}()

// keyPackages names up to n notable packages with their versions. Only
// language ecosystems are looked at: scientific packages live there, and
// the OS packages are most of a record.
func keyPackages(pkgs []catalog.Package, n int) string {
	type found struct {
		rank int
		text string
	}
	var hits []found
	named := map[int]bool{}
	for _, p := range pkgs {
		switch p.Ecosystem {
		case "python", "conda", "r":
		default:
			continue
		}
		rank, ok := notableRank(p.Name)
		if ok && !named[rank] {
			named[rank] = true
			hits = append(hits, found{rank, p.Name + " " + p.Version})
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].rank < hits[j].rank })
	texts := make([]string, 0, n)
	for _, h := range hits[:min(n, len(hits))] {
		texts = append(texts, h.text)
	}
	return strings.Join(texts, ", ")
}

// notableRank looks name up in notablePackages without allocating: it
// runs for every language package of every image on each request.
func notableRank(name string) (int, bool) {
	var buf [len(notableShapes)]byte // longer than any notable name
	if len(name) == 0 || len(name) >= len(buf) || notableShapes[len(name)]&(1<<((name[0]|0x20)-'a')) == 0 {
		return 0, false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '.':
			c = '-'
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	rank, ok := notablePackages[string(buf[:len(name)])]
	return rank, ok
}

// htmlUnsafe maps the characters that matter in HTML to harmless ones.
var htmlUnsafe = strings.NewReplacer("<", "", ">", "", "&", "+", `"`, "'")

// plainText makes text from labels and package databases safe where hubs
// put it: KubeSpawner's form template and DockerSpawner's default form
// render names and descriptions into HTML without escaping, and the text
// is whatever the image's author wrote. It also folds white space and
// control characters and cuts the text to limit runes.
func plainText(s string, limit int) string {
	if isPlain(s, limit) {
		return s
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, htmlUnsafe.Replace(s))
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:limit-1])) + "…"
}

// isPlain says whether plainText would return s unchanged; most texts
// are, and this check does not allocate.
func isPlain(s string, limit int) bool {
	if len(s) > limit || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") || strings.Contains(s, "  ") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c == '<' || c == '>' || c == '&' || c == '"' || c == 0x7f {
			return false
		}
		if c >= utf8.RuneSelf {
			return isPlainRunes(s[i:])
		}
	}
	return true
}

// isPlainRunes is isPlain's check of text beyond ASCII.
func isPlainRunes(s string) bool {
	for _, r := range s {
		if r == '<' || r == '>' || r == '&' || r == '"' || unicode.IsSpace(r) && r != ' ' || unicode.IsControl(r) {
			return false
		}
	}
	return true
}
