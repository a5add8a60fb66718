package catalog

import (
	"strings"
	"time"
)

// Budget bounds what the catalog keeps and does for one image, the way
// oci.Limits bounds what reading one layer costs. Images come from anyone
// who can push, and a few KiB of crafted content (a status file of empty
// stanzas, an index listing one child many times) can otherwise ask for
// gigabytes. What a Budget cuts is said in the record (Record.Truncated),
// never dropped silently. A zero field takes the default. The registry's
// configuration has the same fields (config.Budget, catalog.budget in the
// file).
type Budget struct {
	// MaxProblemsPerFile caps the problems kept for one file of a layer.
	MaxProblemsPerFile int
	// MaxProblems caps the problems kept for one layer and for one
	// record; the rest are counted (Record.IndexErrorsOmitted).
	MaxProblems int
	// MaxPackages caps the packages kept for one layer and one record.
	MaxPackages int
	// MaxPaths caps the paths one layer's facts keep (package database
	// files found, and whiteouts) and those an image's merged view keeps.
	// They are kept for the merge with other layers, so a layer of two
	// million dist-info files or whiteouts would otherwise cost hundreds
	// of MiB.
	MaxPaths int
	// MaxIndexChildren caps the distinct children an index record lists
	// and inherits from.
	MaxIndexChildren int
	// MaxSBOMLayers caps the distinct layers read from one SBOM referrer.
	MaxSBOMLayers int
	// MaxSBOMBytes caps the SBOM bytes read for one record, across its
	// referrers.
	MaxSBOMBytes int64
	// MaxRecordBytes caps a record's JSON encoding, what the store keeps
	// and decodes again at every start.
	MaxRecordBytes int64
	// Deadline caps the time spent indexing one image; an image that takes
	// longer is recorded as partially indexed.
	Deadline time.Duration
	// MaxAttempts caps the attempts at indexing one image that the process
	// did not survive (killed while indexing it); after that many the image
	// is recorded as failed, not tried again at every start.
	MaxAttempts int
}

// Defaults that hold on a 2-core, 24 GiB machine with several workers.
// Real images stay far below every one of them: the biggest package
// databases list a few thousand packages (a conda environment with
// CUDA, a full Debian), indexes list tens of platforms, a CUDA image with
// 10 GiB layers indexes in about two minutes.
const (
	DefaultMaxProblemsPerFile       = 20
	DefaultMaxProblems              = 100
	DefaultMaxPackages              = 100_000
	DefaultMaxPaths                 = 200_000
	DefaultMaxIndexChildren         = 256
	DefaultMaxSBOMLayers            = 16
	DefaultMaxSBOMBytes       int64 = 256 << 20
	DefaultMaxRecordBytes     int64 = 32 << 20
	DefaultDeadline                 = 15 * time.Minute
	DefaultMaxAttempts              = 2
)

// ProblemsPerFile is MaxProblemsPerFile, or its default when zero.
func (b Budget) ProblemsPerFile() int {
	return orDefault(b.MaxProblemsPerFile, DefaultMaxProblemsPerFile)
}

// Problems is MaxProblems, or its default when zero.
func (b Budget) Problems() int { return orDefault(b.MaxProblems, DefaultMaxProblems) }

// Packages is MaxPackages, or its default when zero.
func (b Budget) Packages() int { return orDefault(b.MaxPackages, DefaultMaxPackages) }

// Paths is MaxPaths, or its default when zero.
func (b Budget) Paths() int { return orDefault(b.MaxPaths, DefaultMaxPaths) }

// IndexChildren is MaxIndexChildren, or its default when zero.
func (b Budget) IndexChildren() int { return orDefault(b.MaxIndexChildren, DefaultMaxIndexChildren) }

// SBOMLayers is MaxSBOMLayers, or its default when zero.
func (b Budget) SBOMLayers() int { return orDefault(b.MaxSBOMLayers, DefaultMaxSBOMLayers) }

// SBOMBytes is MaxSBOMBytes, or its default when zero.
func (b Budget) SBOMBytes() int64 { return orDefault(b.MaxSBOMBytes, DefaultMaxSBOMBytes) }

// RecordBytes is MaxRecordBytes, or its default when zero.
func (b Budget) RecordBytes() int64 { return orDefault(b.MaxRecordBytes, DefaultMaxRecordBytes) }

// ImageDeadline is Deadline, or its default when zero.
func (b Budget) ImageDeadline() time.Duration { return orDefault(b.Deadline, DefaultDeadline) }

// Attempts is MaxAttempts, or its default when zero.
func (b Budget) Attempts() int { return orDefault(b.MaxAttempts, DefaultMaxAttempts) }

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Problems keeps the first Max problems in order and counts the rest, so
// that any number of them costs a bounded amount of memory.
type Problems struct {
	Max     int
	Kept    []string
	Omitted int
}

// MaxProblemBytes bounds one problem kept: it quotes entry names, which a
// tar header can make a megabyte long.
const MaxProblemBytes = 1024

// Add keeps msg, shortened to MaxProblemBytes, or counts it once Max are
// kept.
func (p *Problems) Add(msg string) {
	if len(p.Kept) >= p.Max {
		p.Omitted++
		return
	}
	if len(msg) > MaxProblemBytes {
		msg = strings.ToValidUTF8(msg[:MaxProblemBytes], "") + "…"
	}
	p.Kept = append(p.Kept, msg)
}
