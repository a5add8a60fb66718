package search

import (
	"strings"

	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/oyster-registry/oyster/catalog/version"
)

// dictionary enumerates the terms of one field that start with a prefix;
// the index answers it from bleve's term dictionary.
type dictionary interface {
	terms(field, prefix string) ([]string, error)
}

// clause is the meaning of one term, turned into a bleve query against
// the terms the index holds at search time.
type clause interface {
	query(d dictionary) (query.Query, error)
}

// textFields are searched by free text, with the weight of a match in each.
var textFields = []struct {
	field string
	boost float64
}{
	{fName, 5}, {fTitle, 3}, {fPkgText, 2}, {fTagText, 2}, {fDesc, 1}, {fLabelText, 1}, {fFacts, 1},
}

// textClause is a free text word or a quoted phrase: it must match in at
// least one text field, or be the exact name of an installed package.
type textClause struct {
	text   string
	phrase bool
}

func (c textClause) query(dictionary) (query.Query, error) {
	var any []query.Query
	for _, tf := range textFields {
		var q query.Query
		if c.phrase {
			if tf.field != fName && tf.field != fTitle && tf.field != fDesc {
				continue // phrases need positions, which only these keep
			}
			mp := query.NewMatchPhraseQuery(c.text)
			mp.SetField(tf.field)
			mp.SetBoost(tf.boost)
			q = mp
		} else {
			m := query.NewMatchQuery(c.text)
			m.SetField(tf.field)
			m.SetBoost(tf.boost)
			m.SetOperator(query.MatchQueryOperatorAnd)
			q = m
		}
		any = append(any, q)
	}
	if !c.phrase {
		any = append(any, termsQuery(fPkg, pkgNameForms(c.text), 2))
	}
	return query.NewDisjunctionQuery(any), nil
}

// termClause is an exact keyword.
type termClause struct{ field, value string }

func (c termClause) query(dictionary) (query.Query, error) {
	return termsQuery(c.field, []string{c.value}, 1), nil
}

// prefixClause matches keywords starting with a prefix.
type prefixClause struct{ field, prefix string }

func (c prefixClause) query(dictionary) (query.Query, error) {
	q := query.NewPrefixQuery(c.prefix)
	q.SetField(c.field)
	return q, nil
}

// dictClause matches the keywords of a field that keep accepts; the
// field's dictionary is small (licenses).
type dictClause struct {
	field string
	keep  func(term string) bool
}

func (c dictClause) query(d dictionary) (query.Query, error) {
	all, err := d.terms(c.field, "")
	if err != nil {
		return nil, err
	}
	var kept []string
	for _, t := range all {
		if c.keep(t) {
			kept = append(kept, t)
		}
	}
	return termsQuery(c.field, kept, 1), nil
}

// versionClause matches keywords prefix+version whose version satisfies
// every constraint under the field's ordering. Resolving the constraint on
// the dictionary keeps the query exact and avoids visiting documents.
type versionClause struct {
	field       string
	prefix      string
	constraints []version.Constraint
}

func (c versionClause) query(d dictionary) (query.Query, error) {
	kept, err := c.resolve(d)
	if err != nil {
		return nil, err
	}
	return termsQuery(c.field, kept, 1), nil
}

func (c versionClause) resolve(d dictionary) ([]string, error) {
	all, err := d.terms(c.field, c.prefix)
	if err != nil {
		return nil, err
	}
	scheme := schemeFor(c.field)
	var kept []string
	for _, t := range all {
		if satisfies(scheme, strings.TrimPrefix(t, c.prefix), c.constraints) {
			kept = append(kept, t)
		}
	}
	return kept, nil
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

func (c pkgClause) query(d dictionary) (query.Query, error) {
	if c.constraints == nil && c.ecosystem == "" {
		return termsQuery(fPkg, pkgNameForms(c.name), 1), nil
	}
	ecos := ecosystems
	if c.ecosystem != "" {
		ecos = []string{c.ecosystem}
	}
	var any []query.Query
	for _, eco := range ecos {
		v := versionClause{field: pvPrefix + eco, prefix: normName(eco, c.name) + "=", constraints: c.constraints}
		kept, err := v.resolve(d)
		if err != nil {
			return nil, err
		}
		if len(kept) > 0 {
			any = append(any, termsQuery(v.field, kept, 1))
		}
	}
	return disjunction(any), nil
}

// pkgNameForms are the index forms a typed name may take: Python's PEP 503
// form and everyone else's lower case.
func pkgNameForms(name string) []string {
	return dedup([]string{normName("", name), normName("python", name)})
}

// termsQuery matches any of the exact terms in field; no terms match
// nothing.
func termsQuery(field string, terms []string, boost float64) query.Query {
	qs := make([]query.Query, len(terms))
	for i, t := range terms {
		tq := query.NewTermQuery(t)
		tq.SetField(field)
		tq.SetBoost(boost)
		qs[i] = tq
	}
	return disjunction(qs)
}

func disjunction(qs []query.Query) query.Query {
	switch len(qs) {
	case 0:
		return query.NewMatchNoneQuery()
	case 1:
		return qs[0]
	}
	return query.NewDisjunctionQuery(qs)
}
