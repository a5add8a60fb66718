package search

import (
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/analysis"

	"github.com/oyster-registry/oyster/catalog/version"
)

// clause is the meaning of one term. A search prepares each clause once
// and then matches it on every segment.
type clause interface {
	prepare(a analysis.Analyzer) matcher
}

// matcher finds the documents of one segment that a clause matches.
type matcher interface {
	match(v *segView) (*roaring.Bitmap, error)
}

type matchFunc func(v *segView) (*roaring.Bitmap, error)

func (f matchFunc) match(v *segView) (*roaring.Bitmap, error) { return f(v) }

// termClause is an exact keyword.
type termClause struct{ field, value string }

func (c termClause) prepare(analysis.Analyzer) matcher {
	return matchFunc(func(v *segView) (*roaring.Bitmap, error) { return v.postings(c.field, c.value) })
}

// prefixClause matches keywords starting with a prefix.
type prefixClause struct{ field, prefix string }

func (c prefixClause) prepare(analysis.Analyzer) matcher {
	return matchFunc(func(v *segView) (*roaring.Bitmap, error) { return v.union(c.field, c.prefix, nil) })
}

// dictClause matches the keywords of a field that keep accepts; the
// field's dictionary is small (licenses).
type dictClause struct {
	field string
	keep  func(term string) bool
}

func (c dictClause) prepare(analysis.Analyzer) matcher {
	return matchFunc(func(v *segView) (*roaring.Bitmap, error) { return v.union(c.field, "", c.keep) })
}

// versionClause matches keywords prefix+version whose version satisfies
// every constraint under the field's ordering. The constraint is resolved
// on the term dictionary, so it is exact and never visits a document.
type versionClause struct {
	field       string
	prefix      string
	constraints []version.Constraint
}

func (c versionClause) prepare(analysis.Analyzer) matcher {
	keep := c.keeper()
	return matchFunc(func(v *segView) (*roaring.Bitmap, error) { return v.union(c.field, c.prefix, keep) })
}

// keeper decides each distinct term once per search, however many
// segments hold it.
func (c versionClause) keeper() func(term string) bool {
	scheme := schemeFor(c.field)
	seen := map[string]bool{}
	return func(term string) bool {
		ok, known := seen[term]
		if !known {
			ok = satisfies(scheme, strings.TrimPrefix(term, c.prefix), c.constraints)
			seen[term] = ok
		}
		return ok
	}
}

func satisfies(s version.Scheme, v string, cons []version.Constraint) bool {
	for _, c := range cons {
		if !c.Match(s, v) {
			return false
		}
	}
	return true
}

// schemeFor picks the version ordering of a field: the ecosystem's for
// package versions, PEP 440 for Python, generic for the rest.
func schemeFor(field string) version.Scheme {
	if eco, ok := strings.CutPrefix(field, pvPrefix); ok {
		return version.SchemeFor(eco)
	}
	if field == fPython {
		return version.PEP440
	}
	return version.Generic
}

// pkgClause is pkg:[ecosystem/]name[constraints].
type pkgClause struct {
	ecosystem   string // empty: any
	name        string
	constraints []version.Constraint // nil: any version, or none recorded
}

func (c pkgClause) prepare(analysis.Analyzer) matcher {
	return newPkgMatcher(c.ecosystem, c.name, c.constraints)
}

// newPkgMatcher matches packages called name, in ecosystem or in any, with
// a version satisfying every constraint (nil: any version, or none).
func newPkgMatcher(ecosystem, name string, constraints []version.Constraint) matcher {
	fields := pvFields
	if ecosystem != "" {
		fields = []string{pvPrefix + ecosystem}
	}
	var vcs []versionClause
	var keeps []func(string) bool
	for _, f := range fields {
		vc := versionClause{field: f, prefix: normName(strings.TrimPrefix(f, pvPrefix), name) + "=", constraints: constraints}
		vcs, keeps = append(vcs, vc), append(keeps, vc.keeper())
	}
	return matchFunc(func(v *segView) (*roaring.Bitmap, error) {
		out := roaring.New()
		for i, vc := range vcs {
			bm, err := v.union(vc.field, vc.prefix, keeps[i])
			if err != nil {
				return nil, err
			}
			out.Or(bm)
		}
		return out, nil
	})
}

// textFields are searched by free text, with the weight of a match in
// each. Phrases are looked for only in the stored ones.
var textFields = []struct {
	field  string
	boost  float32
	stored bool
}{
	{fName, 5, true}, {fTitle, 3, true}, {fPkgText, 2, false}, {fTagText, 2, false},
	{fDesc, 1, true}, {fLabelText, 1, false}, {fFacts, 1, false},
}

// pkgBoost weighs a word that is exactly the name of an installed package.
const pkgBoost = 2

// textClause is a free text word or a quoted phrase: it must match in at
// least one text field, or be the exact name of an installed package.
type textClause struct {
	text   string
	phrase bool
}

func (c textClause) prepare(a analysis.Analyzer) matcher {
	return &textMatcher{c: c, tokens: analyze(a, c.text), analyzer: a, pkg: newPkgMatcher("", c.text, nil)}
}

// textMatcher remembers, per segment, which fields matched, so that the
// search can score documents by where the text was found.
type textMatcher struct {
	c        textClause
	tokens   []string
	analyzer analysis.Analyzer
	pkg      matcher // the text as a package name
	parts    map[*segView][]part
	df       uint64 // documents matched over all segments
	// count, when set, counts the documents of a segment that df may
	// include (a caller's filter); nil counts all.
	count func(v *segView, docs *roaring.Bitmap) uint64
}

// part is the documents of one segment where a text matched in one field.
type part struct {
	docs  *roaring.Bitmap
	boost float32
}

func (m *textMatcher) match(v *segView) (*roaring.Bitmap, error) {
	all := roaring.New()
	var parts []part
	add := func(bm *roaring.Bitmap, boost float32) {
		if !bm.IsEmpty() {
			all.Or(bm)
			parts = append(parts, part{bm, boost})
		}
	}
	for _, tf := range textFields {
		if len(m.tokens) == 0 || (m.c.phrase && !tf.stored) {
			continue
		}
		bm, err := m.inField(v, tf.field)
		if err != nil {
			return nil, err
		}
		add(bm, tf.boost)
	}
	if !m.c.phrase {
		bm, err := m.pkg.match(v)
		if err != nil {
			return nil, err
		}
		add(bm, pkgBoost)
	}
	if m.parts == nil {
		m.parts = map[*segView][]part{}
	}
	m.parts[v] = parts
	if m.count != nil {
		m.df += m.count(v, all)
	} else {
		m.df += all.GetCardinality()
	}
	return all, nil
}

// keepHits narrows the segment's parts to the search's hits, which are all
// that will be scored.
func (m *textMatcher) keepHits(v *segView, hits *roaring.Bitmap) {
	for _, p := range m.parts[v] {
		p.docs.And(hits)
	}
}

// inField finds the documents holding every token in field, and for a
// phrase, holding them in order.
func (m *textMatcher) inField(v *segView, field string) (*roaring.Bitmap, error) {
	bm, err := v.postings(field, m.tokens[0])
	for _, tok := range m.tokens[1:] {
		if err != nil || bm.IsEmpty() {
			break
		}
		var next *roaring.Bitmap
		next, err = v.postings(field, tok)
		bm.And(next)
	}
	if err != nil || !m.c.phrase || len(m.tokens) < 2 {
		return bm, err
	}
	return m.verifyPhrase(v, field, bm)
}

// verifyPhrase keeps the candidates whose stored text holds the phrase;
// the index keeps no positions, which would cost more than the rare
// phrase search saves.
func (m *textMatcher) verifyPhrase(v *segView, field string, cands *roaring.Bitmap) (*roaring.Bitmap, error) {
	out := roaring.New()
	it := cands.Iterator()
	for it.HasNext() {
		doc := it.Next()
		text, err := v.storedText(doc, field)
		if err != nil {
			return nil, err
		}
		if hasRun(analyze(m.analyzer, text), m.tokens) {
			out.Add(doc)
		}
	}
	return out, nil
}

// hasRun reports whether run occurs in toks as consecutive tokens.
func hasRun(toks, run []string) bool {
	for i := 0; i+len(run) <= len(toks); i++ {
		j := 0
		for j < len(run) && toks[i+j] == run[j] {
			j++
		}
		if j == len(run) {
			return true
		}
	}
	return false
}

// analyze returns the terms the text analyser makes of s.
func analyze(a analysis.Analyzer, s string) []string {
	var out []string
	for _, t := range a.Analyze([]byte(s)) {
		out = append(out, string(t.Term))
	}
	return out
}
