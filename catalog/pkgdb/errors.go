package pkgdb

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// MaxErrorsKept bounds the errors one parse keeps; the rest are counted.
// A database of ten million malformed stanzas is a few hundred KiB
// compressed, and must not cost one error value each.
const MaxErrorsKept = 100

// MaxPackagesPerFile bounds the packages one database yields. The largest
// real ones list a few thousand; a 256 MiB status file of two-line
// stanzas would list ten million.
const MaxPackagesPerFile = 200_000

// Errors is what a parser returns when some entries of a database were
// malformed: the first MaxErrorsKept of them, and how many more there were.
type Errors struct {
	Errs    []error
	Omitted int
}

func (e *Errors) Error() string {
	msgs := make([]string, 0, len(e.Errs)+1)
	for _, err := range e.Errs {
		msgs = append(msgs, err.Error())
	}
	if e.Omitted > 0 {
		msgs = append(msgs, fmt.Sprintf("%d more errors not listed", e.Omitted))
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.Is and errors.As see the kept errors.
func (e *Errors) Unwrap() []error { return e.Errs }

// errorList collects a parse's errors within MaxErrorsKept.
type errorList Errors

func (l *errorList) add(err error) {
	if err == nil {
		return
	}
	if len(l.Errs) < MaxErrorsKept {
		l.Errs = append(l.Errs, err)
		return
	}
	l.Omitted++
}

// err is nil when nothing was added, the one error when one was, else
// an *Errors.
func (l *errorList) err() error {
	switch {
	case len(l.Errs) == 0:
		return nil
	case len(l.Errs) == 1 && l.Omitted == 0:
		return l.Errs[0]
	}
	return (*Errors)(l)
}

// ErrTooManyPackages marks a database that lists more than
// MaxPackagesPerFile packages; the first ones are returned.
var ErrTooManyPackages = fmt.Errorf("more than %d packages; the rest were not read", MaxPackagesPerFile)

// ErrControlCharacter marks a package name or version holding a NUL or
// another control character, which no package manager writes and which
// would be copied into pages, APIs and logs.
var ErrControlCharacter = errors.New("control character in package name or version")

// MaxFieldBytes bounds a package's name, version, architecture and origin.
// Real ones are tens of bytes; a status file's megabyte-long lines would
// otherwise make every package of a record cost a megabyte.
const MaxFieldBytes = 256

// Check refuses a package whose name or version is empty, whose fields are
// over MaxFieldBytes, or hold a control character.
func (p Package) Check() error {
	name, version := truncate(p.Name, 80), truncate(p.Version, 80)
	if p.Name == "" || p.Version == "" {
		return fmt.Errorf("package %q %q: empty name or version", name, version)
	}
	for _, f := range []string{p.Name, p.Version, p.Arch, p.Origin} {
		if len(f) > MaxFieldBytes {
			return fmt.Errorf("package %q %q: a field is over %d bytes", name, version, MaxFieldBytes)
		}
		if hasControl(f) {
			return fmt.Errorf("package %q %q: %w", name, version, ErrControlCharacter)
		}
	}
	return nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}
