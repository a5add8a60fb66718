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

// Check refuses a package whose name or version is empty or holds a
// control character.
func (p Package) Check() error {
	if p.Name == "" || p.Version == "" {
		return fmt.Errorf("package %q %q: empty name or version", p.Name, p.Version)
	}
	if hasControl(p.Name) || hasControl(p.Version) || hasControl(p.Arch) || hasControl(p.Origin) {
		return fmt.Errorf("package %q %q: %w", p.Name, p.Version, ErrControlCharacter)
	}
	return nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}
