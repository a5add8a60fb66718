package search

import (
	"fmt"
	"slices"
	"strings"

	"github.com/oyster-registry/oyster/catalog/version"
)

// Bounds on a query. A query comes from a URL; these keep one request from
// building an arbitrarily expensive search.
const (
	MaxQueryBytes = 2048
	MaxQueryTerms = 32
)

// QueryError says what is wrong with a query, in words meant for the person
// who typed it. The HTTP layer answers it with 400.
type QueryError struct {
	// Pos is the byte offset in the query where the problem starts, or -1
	// when the problem is elsewhere in the request (sort, facets, page).
	Pos int    `json:"pos"`
	Msg string `json:"message"`
}

func (e *QueryError) Error() string { return e.Msg }

func errorf(pos int, format string, args ...interface{}) *QueryError {
	return &QueryError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// Query is a parsed query: every term must hold.
type Query struct {
	Terms []Term
}

// Term is one word, phrase or filter of a query.
type Term struct {
	Pos     int    // byte offset in the query
	Negated bool   // written with a leading "-"
	Filter  string // filter name in lower case; empty for free text
	Value   string // the value with quotes removed
	Phrase  bool   // free text written in quotes

	clause clause
}

// Parse reads a query such as
//
//	pymatgen python:3.11 cuda:12 pkg:numpy>=1.26,<2 -type:sif label:"org.example.note=two words"
//
// Terms are separated by white space; each is free text, a quoted phrase,
// or filter:value, and any may be negated with a leading "-". Quotes may
// appear anywhere in a term and group white space into it.
func Parse(q string) (*Query, error) {
	if len(q) > MaxQueryBytes {
		return nil, errorf(MaxQueryBytes, "query is too long (%d bytes; at most %d)", len(q), MaxQueryBytes)
	}
	out := &Query{}
	for i := skipSpace(q, 0); i < len(q); i = skipSpace(q, i) {
		tok, next, err := lex(q, i)
		if err != nil {
			return nil, err
		}
		i = next
		if tok.filter == "" && tok.value == "" {
			continue // "" or -"" asks for nothing
		}
		if len(out.Terms) == MaxQueryTerms {
			return nil, errorf(tok.pos, "too many terms (at most %d)", MaxQueryTerms)
		}
		t, err := parseTerm(tok)
		if err != nil {
			return nil, err
		}
		out.Terms = append(out.Terms, t)
	}
	return out, nil
}

// token is one lexed term before its filter is interpreted.
type token struct {
	pos    int
	raw    string // as typed, without the "-"
	neg    bool
	filter string
	value  string
	quoted bool
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func skipSpace(q string, i int) int {
	for i < len(q) && isSpace(q[i]) {
		i++
	}
	return i
}

// lex reads the term starting at q[i] and returns it with the offset just
// past it. A filter name is letters before the first unquoted colon.
func lex(q string, i int) (token, int, error) {
	t := token{pos: i}
	if q[i] == '-' {
		t.neg = true
		if i++; i == len(q) || isSpace(q[i]) {
			return t, i, errorf(t.pos, "nothing after \"-\"; write -word or -filter:value")
		}
	}
	start := i
	var b strings.Builder
	for i < len(q) && !isSpace(q[i]) {
		switch c := q[i]; {
		case c == '"':
			t.quoted = true
			j, err := readQuoted(q, i, &b)
			if err != nil {
				return t, j, err
			}
			i = j
		case c == ':' && t.filter == "" && !t.quoted && isFilterName(b.String()):
			t.filter = strings.ToLower(b.String())
			b.Reset()
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	t.raw, t.value = q[start:i], b.String()
	return t, i, nil
}

// readQuoted appends the quoted string starting at q[i] to b, undoing \"
// and \\, and returns the offset after the closing quote.
func readQuoted(q string, i int, b *strings.Builder) (int, error) {
	for j := i + 1; j < len(q); j++ {
		switch q[j] {
		case '"':
			return j + 1, nil
		case '\\':
			if j+1 < len(q) {
				j++
			}
		}
		b.WriteByte(q[j])
	}
	return len(q), errorf(i, "unterminated quote at position %d", i)
}

func isFilterName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// filterParsers interprets each filter's value.
var filterParsers map[string]func(token) (clause, error)

func init() {
	filterParsers = map[string]func(token) (clause, error){
		"pkg": parsePkg, "os": parseOS, "type": parseType, "repo": parseRepo,
		"label": kvParser(fLabel), "annotation": kvParser(fAnnot),
		"arch":      func(t token) (clause, error) { return termClause{fArch, normArch(t.value)}, nil },
		"platform":  func(t token) (clause, error) { return termClause{fPlatform, strings.ToLower(t.value)}, nil },
		"namespace": func(t token) (clause, error) { return termClause{fNS, t.value}, nil },
		"tag":       func(t token) (clause, error) { return termClause{fTag, t.value}, nil },
		"digest":    func(t token) (clause, error) { return termClause{fDigest, t.value}, nil },
		"base":      func(t token) (clause, error) { return termClause{fBase, t.value}, nil },
		"license":   parseLicense,
	}
	for name, field := range runtimeFields {
		filterParsers[name] = runtimeParser(field)
	}
	filterParsers["cuda"] = runtimeParser(fCUDA)
}

// knownFilters lists the filter names for error messages.
func knownFilters() string {
	names := make([]string, 0, len(filterParsers))
	for name := range filterParsers {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func parseTerm(t token) (Term, error) {
	term := Term{Pos: t.pos, Negated: t.neg, Filter: t.filter, Value: t.value}
	if t.filter == "" {
		term.Phrase = t.quoted
		term.clause = textClause{text: t.value, phrase: t.quoted}
		return term, nil
	}
	parse, ok := filterParsers[t.filter]
	if !ok {
		return term, errorf(t.pos, "unknown filter %q; known filters: %s", t.filter, knownFilters())
	}
	if t.value == "" {
		return term, errorf(t.pos, "missing value after %q", t.filter+":")
	}
	c, err := parse(t)
	if qe, ok := err.(*QueryError); ok {
		qe.Pos = t.pos
	}
	term.clause = c
	return term, err
}

// parsePkg reads [ecosystem/]name[constraint{,constraint}].
func parsePkg(t token) (clause, error) {
	spec := t.value
	opAt := strings.IndexAny(spec, "<>=!")
	name, cons := spec, ""
	if opAt >= 0 {
		name, cons = spec[:opAt], spec[opAt:]
	}
	eco, bare, hasEco := strings.Cut(name, "/")
	if !hasEco {
		eco, bare = "", name
	} else if !slices.Contains(ecosystems, strings.ToLower(eco)) {
		return nil, errorf(0, "unknown package ecosystem %q in %s; known: %s", eco, t.raw, strings.Join(ecosystems, ", "))
	}
	eco = strings.ToLower(eco)
	if strings.TrimSpace(bare) == "" {
		return nil, errorf(0, "missing package name in %s", t.raw)
	}
	p := pkgClause{ecosystem: eco, name: bare}
	if cons != "" {
		var err error
		if p.constraints, err = parseConstraints(cons, t.raw); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// parseConstraints reads a comma list of version constraints. A lone "*"
// asks only that a version be present.
func parseConstraints(s, raw string) ([]version.Constraint, error) {
	if s == "*" {
		return []version.Constraint{}, nil
	}
	var out []version.Constraint
	for _, part := range strings.Split(s, ",") {
		c, err := version.ParseConstraint(part)
		if err != nil {
			return nil, errorf(0, "bad version constraint %q in %s", part, raw)
		}
		out = append(out, c)
	}
	return out, nil
}

func runtimeParser(field string) func(token) (clause, error) {
	return func(t token) (clause, error) {
		cons, err := parseConstraints(t.value, t.raw)
		return versionClause{field: field, constraints: cons}, err
	}
}

// parseOS reads ID or ID:VERSION, where VERSION is a version constraint
// list like a runtime's (debian:12, ubuntu:>=22.04, alpine:3.19).
func parseOS(t token) (clause, error) {
	id, ver, hasVer := strings.Cut(t.value, ":")
	id = strings.ToLower(id)
	if id == "" {
		return nil, errorf(0, "missing OS name in %s; e.g. os:debian or os:debian:12", t.raw)
	}
	if !hasVer {
		return termClause{fOS, id}, nil
	}
	cons, err := parseConstraints(ver, t.raw)
	return versionClause{field: fOSRel, prefix: id + ":", constraints: cons}, err
}

// kinds are the values type: accepts.
var kinds = []string{"artifact", "image", "index", "sif"}

func parseType(t token) (clause, error) {
	k := strings.ToLower(t.value)
	if !slices.Contains(kinds, k) {
		return nil, errorf(0, "unknown type %q in %s; known: %s", t.value, t.raw, strings.Join(kinds, ", "))
	}
	return termClause{fKind, k}, nil
}

// parseRepo reads an exact repository name or, with a trailing "*", a
// prefix: repo:ns/* is every repository under ns.
func parseRepo(t token) (clause, error) {
	if prefix, ok := strings.CutSuffix(t.value, "*"); ok {
		return prefixClause{fRepo, prefix}, nil
	}
	return termClause{fRepo, t.value}, nil
}

// kvParser reads KEY=VALUE, or KEY alone for "has this key".
func kvParser(field string) func(token) (clause, error) {
	return func(t token) (clause, error) {
		key, _, hasValue := strings.Cut(t.value, "=")
		if key == "" {
			return nil, errorf(0, "missing key in %s; write %s:KEY=VALUE or %s:KEY", t.raw, t.filter, t.filter)
		}
		if !hasValue {
			return prefixClause{field, key + "="}, nil
		}
		return termClause{field, t.value}, nil
	}
}

// parseLicense matches SPDX identifiers without regard to case, as people
// type "mit" for MIT.
func parseLicense(t token) (clause, error) {
	want := t.value
	return dictClause{field: fLicense, keep: func(term string) bool { return strings.EqualFold(term, want) }}, nil
}
