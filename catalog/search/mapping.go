package search

import (
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
)

// mappingVersion is kept inside the index; Open rebuilds an index written
// with another version because its terms would no longer match the queries.
const mappingVersion = "oyster-search-1"

// Field names. They are short because bleve repeats them in every segment.
const (
	// Analysed text, for free text.
	fName      = "name"      // repository; stored, term vectors (highlights)
	fTitle     = "title"     // stored, term vectors
	fDesc      = "desc"      // stored, term vectors
	fTagText   = "tagtext"   // tags
	fLabelText = "labeltext" // label and annotation values, vendor, authors
	fPkgText   = "pkgtext"   // names of language packages (python, conda, r)
	fFacts     = "facts"     // OS, runtimes and versions, CUDA, arch, kind

	// Keywords, for filters and facets.
	fRepo     = "repo"     // doc values: sort by name
	fNS       = "ns"       // first path component; facet
	fDigest   = "digest"   // stored
	fTag      = "tag"      // stored
	fKind     = "kind"     // stored; facet
	fArch     = "arch"     // normalised architecture; facet
	fPlatform = "platform" // os/arch[/variant] and os/arch
	fOS       = "os"       // os-release ID
	fOSRel    = "osrel"    // ID:VERSION_ID; facet
	fPython   = "python"   // stored; facet
	fR        = "r"
	fJulia    = "julia"
	fJava     = "java"
	fCUDA     = "cuda"    // stored; facet
	fLicense  = "license" // SPDX identifiers; facet
	fLabel    = "label"   // key=value
	fAnnot    = "annot"   // key=value
	fPkg      = "pkg"     // every package name, normalised
	fLangPkg  = "lpkg"    // language package names; facet
	fBase     = "base"    // forms of every base reference

	// Stored only, or numeric.
	fOSPretty  = "ospretty"
	fPlatforms = "platforms" // as the record lists them
	fUpdated   = "updated"   // stored; doc values: sort
	fSize      = "size"      // stored

	// pvPrefix+ecosystem holds name=version keywords of that ecosystem, so
	// a version constraint is resolved on a small dictionary slice and
	// compared with the ecosystem's own ordering.
	pvPrefix = "pv_"
)

const textAnalyzer = "oyster_text"

// ecosystems are the package ecosystems whose versions are indexed.
var ecosystems = []string{"apk", "conda", "deb", "python", "r", "rpm"}

// langEcosystems are the ecosystems scientists search by name; distribution
// packages (libc6, zlib) are in every image and would drown the packages
// facet and the free text.
var langEcosystems = map[string]bool{"python": true, "conda": true, "r": true}

// newMapping builds a static mapping: only the fields above are indexed,
// doc values and term vectors only where a facet, a sort or a highlight
// needs them, which keeps the index small and Put cheap.
func newMapping() (mapping.IndexMapping, error) {
	im := bleve.NewIndexMapping()
	err := im.AddCustomAnalyzer(textAnalyzer, map[string]interface{}{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []string{lowercase.Name},
	})
	if err != nil {
		return nil, err
	}
	dm := bleve.NewDocumentStaticMapping()
	add := func(name string, fm *mapping.FieldMapping) {
		fm.IncludeInAll = false
		dm.AddFieldMappingsAt(name, fm)
	}
	for _, f := range []string{fName, fTitle, fDesc} {
		add(f, text(true))
	}
	for _, f := range []string{fTagText, fLabelText, fPkgText, fFacts} {
		add(f, text(false))
	}
	for _, f := range []string{fDigest, fTag} {
		add(f, kw(true, false))
	}
	for _, f := range []string{fPython, fCUDA, fKind} {
		add(f, kw(true, true))
	}
	for _, f := range []string{fRepo, fNS, fArch, fOSRel, fLicense, fLangPkg} {
		add(f, kw(false, true))
	}
	for _, f := range []string{fPlatform, fOS, fR, fJulia, fJava, fLabel, fAnnot, fPkg, fBase} {
		add(f, kw(false, false))
	}
	for _, e := range ecosystems {
		add(pvPrefix+e, kw(false, false))
	}
	for _, f := range []string{fOSPretty, fPlatforms} {
		fm := kw(true, false)
		fm.Index = false
		add(f, fm)
	}
	updated := bleve.NewDateTimeFieldMapping()
	updated.Store, updated.DocValues = true, true
	add(fUpdated, updated)
	size := bleve.NewNumericFieldMapping()
	size.Index, size.DocValues = false, false
	add(fSize, size)
	im.DefaultMapping = dm
	im.DefaultAnalyzer = keyword.Name
	im.StoreDynamic, im.IndexDynamic, im.DocValuesDynamic = false, false, false
	return im, nil
}

func text(highlight bool) *mapping.FieldMapping {
	fm := bleve.NewTextFieldMapping()
	fm.Analyzer = textAnalyzer
	fm.Store, fm.IncludeTermVectors, fm.DocValues = highlight, highlight, false
	return fm
}

func kw(store, docValues bool) *mapping.FieldMapping {
	fm := bleve.NewKeywordFieldMapping()
	fm.Store, fm.IncludeTermVectors, fm.DocValues = store, false, docValues
	return fm
}
