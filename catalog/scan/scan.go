package scan

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/pkgdb"
	"github.com/oyster-registry/oyster/oci"
)

// ScanLayer streams one layer blob once and returns what it found. Only the
// files classify selects are read; nothing else is buffered. Files that fail
// to parse become Problems and the scan goes on. A returned error means the
// layer itself could not be read to the end (a *oci.LimitError for a bomb
// or an oversized layer, oci.ErrNotLayer, a corrupt stream); the LayerFacts
// returned with it hold what was read before, and should not be cached as
// the layer's facts. The budget bounds the problems, packages and paths
// kept; what it cuts is said in LayerFacts.Truncated.
func ScanLayer(r io.Reader, mediaType string, limits oci.Limits, budget catalog.Budget) (LayerFacts, error) {
	s := newScanner(budget)
	c, err := oci.WalkLayer(r, mediaType, limits, oci.LayerHandler{
		Want:     s.want,
		File:     s.file,
		Whiteout: s.whiteout,
		Problem:  s.problem,
	})
	f := s.facts()
	f.Compression = c
	return f, err
}

// scanner accumulates the facts of one layer, within a budget.
type scanner struct {
	budget      catalog.Budget
	byPath      map[string]Finding
	pythonLibs  map[string]string // lib/pythonX.Y dir -> X.Y
	whiteouts   []string
	opaque      []string
	problems    catalog.Problems
	packages    int // kept so far, over all findings
	packagesCut bool
	pathsCut    bool
	truncated   []string // what the budget cut
}

func newScanner(budget catalog.Budget) *scanner {
	return &scanner{budget: budget, byPath: map[string]Finding{}, pythonLibs: map[string]string{},
		problems: catalog.Problems{Max: budget.Problems()}}
}

// want selects the database files, and notes Python lib directories on the
// way since every path passes here.
func (s *scanner) want(p string) bool {
	if dir, v, ok := pythonLib(p); ok {
		if _, have := s.pythonLibs[dir]; have || s.room(dir) {
			s.pythonLibs[dir] = v
		}
	}
	if _, ok := classify(p); !ok {
		return false
	}
	_, have := s.byPath[p]
	return have || s.room(p)
}

// room reports whether the layer's facts may keep one more path, p; the
// first time they may not, it notes the cut.
func (s *scanner) room(p string) bool {
	if len(s.byPath)+len(s.pythonLibs)+len(s.whiteouts)+len(s.opaque) < s.budget.Paths() {
		return true
	}
	if !s.pathsCut {
		s.pathsCut = true
		s.truncated = append(s.truncated, fmt.Sprintf("paths: over the limit of %d package database files and whiteouts per layer; from %s on, not kept", s.budget.Paths(), p))
	}
	return false
}

func (s *scanner) file(h oci.Header, content io.Reader) error {
	kind, _ := classify(h.Path)
	switch h.Type {
	case tar.TypeReg:
		s.parse(kind, h.Path, content)
	case tar.TypeLink:
		s.hardlink(kind, h)
	case tar.TypeSymlink:
		// The path now leads elsewhere; whatever lower layers had there is
		// gone. The target, if it is a database file, is read on its own.
		s.byPath[h.Path] = Finding{Path: h.Path, Kind: kind}
	}
	return nil
}

// hardlink gives a hard link the content of its target, which tar stores
// once, at the target's earlier entry.
func (s *scanner) hardlink(kind FileKind, h oci.Header) {
	target, ok := s.byPath[h.Linkname]
	if !ok || target.Kind != kind {
		s.problem(h.Path, fmt.Errorf("hard link to %s, which was not read", h.Linkname))
		s.byPath[h.Path] = Finding{Path: h.Path, Kind: kind}
		return
	}
	f := target
	f.Path = h.Path
	// Copy no more than the budget has room for: a million links to one
	// big database must not copy it a million times.
	n := min(len(target.Packages), s.budget.Packages()-s.packages)
	if n < len(target.Packages) {
		s.cutPackages(h.Path)
	}
	f.Packages = make([]pkgdb.Package, n)
	for i, p := range target.Packages[:n] {
		p.Source = h.Path
		f.Packages[i] = p
	}
	s.packages += n
	s.byPath[h.Path] = f
}

func (s *scanner) parse(kind FileKind, p string, r io.Reader) {
	f, err := parseFinding(kind, p, r)
	if err != nil {
		s.problem(p, err)
	}
	f.Packages = s.keep(p, f.Packages)
	s.byPath[p] = f
}

// keep drops the packages of file p whose names or versions are not
// plain text, and those over the budget's package count.
func (s *scanner) keep(p string, pkgs []pkgdb.Package) []pkgdb.Package {
	kept := pkgs[:0]
	for _, pkg := range pkgs {
		if err := pkg.Check(); err != nil {
			s.problem(p, err)
			continue
		}
		if s.packages == s.budget.Packages() {
			s.cutPackages(p)
			break
		}
		s.packages++
		kept = append(kept, pkg)
	}
	return kept
}

func (s *scanner) whiteout(w oci.Whiteout) {
	if !s.room(w.Path) {
		return
	}
	if w.Opaque {
		s.opaque = append(s.opaque, w.Path)
	} else {
		s.whiteouts = append(s.whiteouts, w.Path)
	}
}

// cutPackages notes, once, that the budget's package count was reached
// while reading file p.
func (s *scanner) cutPackages(p string) {
	if !s.packagesCut {
		s.packagesCut = true
		s.truncated = append(s.truncated, fmt.Sprintf("packages: over the limit of %d per layer; from %s on, not all were kept", s.budget.Packages(), p))
	}
}

// problem records a non-fatal error, one entry per line of it (a parser
// reports several bad stanzas at once), each prefixed with its path unless
// it names it already (an *oci.LimitError for a file does). One error
// keeps at most the budget's problems per file; the rest are counted.
func (s *scanner) problem(p string, err error) {
	lines, omitted := problemLines(err)
	for i, msg := range lines {
		if i == s.budget.ProblemsPerFile() {
			omitted += len(lines) - i
			break
		}
		if !strings.HasPrefix(msg, p+": ") {
			msg = p + ": " + msg
		}
		s.problems.Add(msg)
	}
	s.problems.Omitted += omitted
}

// problemLines splits err into its lines; a parser's *pkgdb.Errors also
// says how many errors it did not keep.
func problemLines(err error) (lines []string, omitted int) {
	var errs *pkgdb.Errors
	if !errors.As(err, &errs) {
		return strings.Split(err.Error(), "\n"), 0
	}
	for _, e := range errs.Errs {
		lines = append(lines, strings.Split(e.Error(), "\n")...)
	}
	return lines, errs.Omitted
}

func (s *scanner) facts() LayerFacts {
	for dir, v := range s.pythonLibs {
		if _, taken := s.byPath[dir]; !taken {
			s.byPath[dir] = Finding{Path: dir, Kind: FilePythonLib, Version: v}
		}
	}
	f := LayerFacts{Whiteouts: s.whiteouts, OpaqueDirs: s.opaque, Problems: s.problems.Kept,
		ProblemsOmitted: s.problems.Omitted, Truncated: s.truncated}
	for _, fi := range s.byPath {
		f.Findings = append(f.Findings, fi)
	}
	sort.Slice(f.Findings, func(i, j int) bool { return f.Findings[i].Path < f.Findings[j].Path })
	return f
}

// parseFinding reads one selected file. A file that fails to parse still
// yields a Finding (with what could be read), since it still replaces what
// lower layers had at its path.
func parseFinding(kind FileKind, p string, r io.Reader) (Finding, error) {
	f := Finding{Path: p, Kind: kind}
	var err error
	switch kind {
	case FileDpkg:
		f.Packages, err = pkgdb.ParseDpkgStatus(r, p)
	case FileAPK:
		f.Packages, err = pkgdb.ParseApkInstalled(r, p)
	case FileRPM:
		f.Packages, err = pkgdb.ParseRPMDB(r, p)
	case FileOSRelease:
		var o pkgdb.OSRelease
		if o, err = pkgdb.ParseOSRelease(r); err == nil {
			f.OSRelease = &o
		}
	case FileCUDA:
		f.Version, err = parseCUDAVersionFile(r, strings.HasSuffix(p, ".json"))
	default:
		f.Packages, err = parseOne(kind, p, r)
	}
	return f, err
}

// onePackageParsers read the formats that describe a single package.
var onePackageParsers = map[FileKind]func(io.Reader, string) (pkgdb.Package, error){
	FilePython: pkgdb.ParsePythonMetadata,
	FileConda:  pkgdb.ParseCondaMeta,
	FileR:      pkgdb.ParseRDescription,
}

func parseOne(kind FileKind, p string, r io.Reader) ([]pkgdb.Package, error) {
	pkg, err := onePackageParsers[kind](r, p)
	if err != nil {
		return nil, err
	}
	return []pkgdb.Package{pkg}, nil
}
