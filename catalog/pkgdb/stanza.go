package pkgdb

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// stanza is one paragraph of "Name: value" fields, the shape shared by dpkg
// status (deb822), R DESCRIPTION (DCF) and Python metadata headers (RFC 822).
// apk's installed database has the same shape with one-letter keys.
type stanza struct {
	fields map[string]string
	line   int // where the stanza starts, for error messages
}

func (s stanza) get(name string) string { return strings.TrimSpace(s.fields[name]) }

// SyntaxError reports a malformed stanza; parsers skip the stanza and go on.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// stanzaReader yields stanzas separated by blank lines. Continuation lines
// (starting with a space or tab) extend the previous field's value.
type stanzaReader struct {
	sc   *bufio.Scanner
	line int
	// foldCase lower-cases field names, as deb822, DCF and RFC 822 treat
	// them case-insensitively; apk's keys are case-sensitive ("P" is the
	// name, "p" what it provides).
	foldCase bool
}

func newStanzaReader(r io.Reader, max int64, foldCase bool) *stanzaReader {
	sc := bufio.NewScanner(limited(r, max))
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	return &stanzaReader{sc: sc, foldCase: foldCase}
}

// next returns the next stanza, a *SyntaxError for a malformed one (after
// skipping to its end, so that the caller may go on), or io.EOF. Any other
// error (a line over MaxLineBytes, input over the size limit, a read error)
// is fatal.
func (r *stanzaReader) next() (stanza, error) {
	st := stanza{fields: map[string]string{}}
	var last string
	var bad error
	for r.sc.Scan() {
		r.line++
		text := strings.TrimRight(r.sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			if len(st.fields) > 0 || bad != nil {
				return st, bad
			}
			continue
		}
		if st.line == 0 {
			st.line = r.line
		}
		if bad != nil {
			continue
		}
		last, bad = r.field(st, last, text)
	}
	if err := r.sc.Err(); err != nil {
		return st, err
	}
	if len(st.fields) > 0 || bad != nil {
		return st, bad
	}
	return st, io.EOF
}

// field adds one line to st and returns the name of the field it belongs to.
func (r *stanzaReader) field(st stanza, last, text string) (string, error) {
	if text[0] == ' ' || text[0] == '\t' {
		if last == "" {
			return "", &SyntaxError{Line: r.line, Msg: "continuation line before any field"}
		}
		st.fields[last] += "\n" + strings.TrimSpace(text)
		return last, nil
	}
	name, value, ok := strings.Cut(text, ":")
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return "", &SyntaxError{Line: r.line, Msg: fmt.Sprintf("expected \"Field: value\", got %q", truncate(text, 80))}
	}
	if r.foldCase {
		name = strings.ToLower(name)
	}
	st.fields[name] = strings.TrimSpace(value)
	return name, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// readStanzas reads every stanza of sr, turning each into packages with
// convert. Malformed stanzas become errors in the returned error (the first
// MaxErrorsKept of them, and a count) while the rest still parse; a fatal
// error, or more than MaxPackagesPerFile packages, ends the read.
func readStanzas(sr *stanzaReader, convert func(stanza) (Package, bool, error)) ([]Package, error) {
	var pkgs []Package
	var errs errorList
	for {
		st, err := sr.next()
		if err == io.EOF {
			break
		}
		var syn *SyntaxError
		if errors.As(err, &syn) {
			errs.add(err)
			continue
		}
		if err != nil {
			errs.add(err)
			break
		}
		p, ok, err := convert(st)
		errs.add(err)
		if !ok {
			continue
		}
		if len(pkgs) == MaxPackagesPerFile {
			errs.add(ErrTooManyPackages)
			break
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, errs.err()
}
