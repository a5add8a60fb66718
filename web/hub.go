package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/search"
)

// HubCatalog tells the hub endpoints which images a JupyterHub may offer.
// The registry implements it over the search index and the state store;
// tests implement it in memory. It returns records because a profile names
// the image's runtimes and key packages, which search hits do not carry;
// but only these fields are read: Repository, Digest, Kind, Tags, Updated,
// Size, OCI.Title, OCI.Description, Runtimes, CUDA and Packages (language
// ecosystems only). Decoding a thousand whole records from the store costs
// seconds, so an implementation should keep or build just these.
type HubCatalog interface {
	// HubImages returns the records matching the configured hub query and,
	// when q is not empty, q as well. A q the caller got wrong is a
	// *search.QueryError, which the endpoints answer with 400.
	HubImages(ctx context.Context, q string) ([]*catalog.Record, error)
}

// Hub serves the JupyterHub endpoints: /api/v1/hub/profiles (a KubeSpawner
// profile_list) and /api/v1/hub/images (DockerSpawner allowed_images).
// Every image is pinned by digest so that a session can be reproduced
// whatever happens to the tag later.
type Hub struct {
	Catalog HubCatalog
	// RegistryHost is the host[:port] in the pinned references, the name
	// hubs pull from; empty means the Host of each request.
	RegistryHost string
	Log          *slog.Logger
}

// Register adds the hub endpoints to mux.
func (h *Hub) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/hub/profiles", anyOrigin(h.profiles))
	mux.HandleFunc("GET /api/v1/hub/images", anyOrigin(h.images))
}

// anyOrigin lets any web page read the answers, errors included: spawn
// pages run on the hub's origin and search here from the browser, and the
// answers are the same for everyone.
func anyOrigin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		next(w, r)
	}
}

// hubChoice is one tagged image a hub can start.
type hubChoice struct {
	Name        string // display name, unique within one answer
	Description string
	Slug        string // stable for a repository and tag
	Image       string // host/repository@digest
}

// profiles answers a KubeSpawner profile_list: one profile per tagged image,
// the first the default. options=1 appends one profile whose image
// dropdown lists every image and also accepts any digest-pinned image of
// this registry; options=only answers with that profile alone, which suits
// hubs offering more images than radio buttons can show.
func (h *Hub) profiles(w http.ResponseWriter, r *http.Request) {
	mode := r.URL.Query().Get("options")
	if mode != "" && mode != "0" && mode != "1" && mode != "only" {
		writeError(w, http.StatusBadRequest, "OPTIONS_INVALID", `options must be 0, 1 or "only"`)
		return
	}
	choices, host, ok := h.choices(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, kubeProfiles(choices, host, mode))
}

// images answers DockerSpawner allowed_images: display name → pinned image,
// in the order the hub should list them.
func (h *Hub) images(w http.ResponseWriter, r *http.Request) {
	choices, _, ok := h.choices(w, r)
	if !ok {
		return
	}
	out := make(ordered[string], len(choices))
	for i, c := range choices {
		out[i] = keyed[string]{c.Name, c.Image}
	}
	writeJSON(w, http.StatusOK, out)
}

// choices asks the catalog for the request's images; on failure it has
// answered the request.
func (h *Hub) choices(w http.ResponseWriter, r *http.Request) ([]hubChoice, string, bool) {
	host, status, err := h.host(r)
	if err != nil {
		writeError(w, status, "HOST_INVALID", err.Error())
		return nil, "", false
	}
	recs, err := h.Catalog.HubImages(r.Context(), r.URL.Query().Get("q"))
	var qe *search.QueryError
	switch {
	case errors.As(err, &qe):
		writeError(w, http.StatusBadRequest, "QUERY_INVALID", qe.Msg)
		return nil, "", false
	case err != nil:
		h.Log.Error("hub images", "error", err)
		writeError(w, http.StatusInternalServerError, "INTERNAL", "the catalog could not answer; see the registry log")
		return nil, "", false
	}
	return hubChoices(recs, host), host, true
}

// hostPattern is host[:port] with a DNS name, IPv4 or bracketed IPv6
// address: nothing that could break out of an image reference or the
// validation regex built from it.
var hostPattern = regexp.MustCompile(`^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$`)

// host is the registry host for the pinned references: a bad configured
// host is the server's fault (500), a bad Host header the client's (400).
func (h *Hub) host(r *http.Request) (string, int, error) {
	host, from, status := h.RegistryHost, "hub.registry_host", http.StatusInternalServerError
	if host == "" {
		host, from, status = r.Host, "the request's Host", http.StatusBadRequest
	}
	if !hostPattern.MatchString(host) {
		return "", status, fmt.Errorf("%s %q is not host[:port]", from, host)
	}
	return host, 0, nil
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

// hubChoices turns records into one choice per tag, ordered by display
// name (newest first among equals). Only images and indexes are offered:
// a hub cannot start a SIF file or an artifact.
func hubChoices(recs []*catalog.Record, host string) []hubChoice {
	entries := make([]hubEntry, 0, 2*len(recs))
	seen := make(map[string]bool, len(recs))
	for _, rec := range recs {
		if (rec.Kind != catalog.KindImage && rec.Kind != catalog.KindIndex) || seen[rec.Key()] {
			continue
		}
		seen[rec.Key()] = true
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
			Image:       host + "/" + e.rec.Repository + "@" + e.rec.Digest,
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

// humanSize writes a byte count in SI units, as registries show sizes.
func humanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
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

// kubeOverride is the part of a KubeSpawner profile that sets the image.
type kubeOverride struct {
	Image string `json:"image"`
}

// hubProfile is one entry of a KubeSpawner profile_list.
type hubProfile struct {
	DisplayName         string                   `json:"display_name"`
	Description         string                   `json:"description"`
	Slug                string                   `json:"slug"`
	Default             bool                     `json:"default"`
	KubespawnerOverride *kubeOverride            `json:"kubespawner_override,omitempty"`
	ProfileOptions      map[string]profileOption `json:"profile_options,omitempty"`
}

type profileOption struct {
	DisplayName    string                 `json:"display_name"`
	Choices        ordered[profileChoice] `json:"choices"`
	UnlistedChoice unlistedChoice         `json:"unlisted_choice"`
}

type profileChoice struct {
	DisplayName         string       `json:"display_name"`
	Default             bool         `json:"default"`
	KubespawnerOverride kubeOverride `json:"kubespawner_override"`
}

type unlistedChoice struct {
	Enabled              bool         `json:"enabled"`
	DisplayName          string       `json:"display_name"`
	DisplayNameInChoices string       `json:"display_name_in_choices"`
	ValidationRegex      string       `json:"validation_regex"`
	ValidationMessage    string       `json:"validation_message"`
	KubespawnerOverride  kubeOverride `json:"kubespawner_override"`
}

// catalogSlug names the dropdown profile; image slugs end in 12 hex
// digits, so they never equal it.
const catalogSlug = "oyster-catalog"

func kubeProfiles(choices []hubChoice, host, mode string) []hubProfile {
	out := []hubProfile{}
	if len(choices) == 0 {
		return out
	}
	if mode != "only" {
		for _, c := range choices {
			out = append(out, hubProfile{DisplayName: c.Name, Description: c.Description, Slug: c.Slug,
				KubespawnerOverride: &kubeOverride{c.Image}})
		}
		out[0].Default = true
	}
	if mode == "1" || mode == "only" {
		out = append(out, catalogProfile(choices, host, mode == "only"))
	}
	return out
}

// catalogProfile offers every image in one dropdown, plus any other image
// of this registry pinned by digest (an image the hub query leaves out,
// or one pushed a moment ago).
func catalogProfile(choices []hubChoice, host string, isDefault bool) hubProfile {
	opts := make(ordered[profileChoice], len(choices))
	for i, c := range choices {
		opts[i] = keyed[profileChoice]{c.Slug, profileChoice{DisplayName: c.Name, Default: i == 0, KubespawnerOverride: kubeOverride{c.Image}}}
	}
	return hubProfile{
		DisplayName: "Image from the Oyster catalog",
		Description: fmt.Sprintf("Choose one of %d images from %s, or enter an image of this registry pinned by digest.", len(choices), host),
		Slug:        catalogSlug,
		Default:     isDefault,
		ProfileOptions: map[string]profileOption{"image": {
			DisplayName: "Image",
			Choices:     opts,
			UnlistedChoice: unlistedChoice{
				Enabled:              true,
				DisplayName:          "Image pinned by digest",
				DisplayNameInChoices: "Other image of " + host + "…",
				ValidationRegex:      imageRegex(host),
				ValidationMessage:    "An image of " + host + " pinned by digest: " + host + "/repository@sha256:<64 hex digits>",
				KubespawnerOverride:  kubeOverride{"{value}"},
			},
		}},
	}
}

// repoComponent is one path component of distribution's repository-name
// grammar.
const repoComponent = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`

// imageRegex admits host/repository@sha256:<64 hex> and nothing else. It is
// read twice: by KubeSpawner with Python's re.match, and by the browser as
// the input's pattern attribute (JavaScript with the v flag). So it escapes
// only what both need escaped, keeps "-" out of character classes, and
// ends with $(?!\n) because Python's $ also matches before a final newline.
func imageRegex(host string) string {
	h := strings.NewReplacer(".", `\.`, "[", `\[`, "]", `\]`).Replace(host)
	return "^" + h + "/" + repoComponent + "(?:/" + repoComponent + `)*@sha256:[a-f0-9]{64}$(?!\n)`
}

// ordered is a JSON object that keeps its keys in order: hubs list choices
// in the order of the object, and Go maps would sort them by key.
type ordered[V any] []keyed[V]

type keyed[V any] struct {
	Key   string
	Value V
}

func (o ordered[V]) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(kv.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(kv.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
