package search

import (
	"slices"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
)

// mappingVersion is kept inside the index; Open rebuilds an index written
// with another version because its terms would no longer match the queries.
const mappingVersion = "oyster-search-3"

// Field names. They are short because bleve repeats them in every segment.
const (
	// Analysed text, for free text.
	fName      = "name"      // repository; stored
	fTitle     = "title"     // stored
	fDesc      = "desc"      // stored
	fTagText   = "tagtext"   // tags
	fLabelText = "labeltext" // label and annotation values, vendor, authors
	fPkgText   = "pkgtext"   // names of language packages (python, conda, r)
	fFacts     = "facts"     // OS, runtimes and versions, CUDA, arch, kind

	// Keywords, for filters and facets.
	fRepo     = "repo"     // doc values: sort by name
	fNS       = "ns"       // first path component; facet
	fDigest   = "digest"   // stored; doc values: ties
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
	fLangPkg  = "lpkg"    // language package names; facet
	fBase     = "base"    // forms of every base reference
	fUpdated  = "updated" // RFC 3339 UTC, sorts as time; stored; doc values

	// Stored only.
	fOSPretty  = "ospretty"
	fPlatforms = "platforms" // as the record lists them
	fSize      = "size"

	// pvPrefix+ecosystem holds name=version keywords of that ecosystem
	// (name= when no version is known), so a version constraint is resolved
	// on a small slice of the dictionary with the ecosystem's own ordering,
	// and a package name alone on the same slice.
	pvPrefix = "pv_"
)

const textAnalyzer = "oyster_text"

// ecosystems are the package ecosystems a query may name.
var ecosystems = []string{"apk", "conda", "deb", "python", "r", "rpm"}

// otherEcosystem holds packages of any other ecosystem (from an SBOM, say),
// found by name and compared with the generic ordering.
const otherEcosystem = "other"

// pvFields are the name=version fields, one per ecosystem.
var pvFields = func() []string {
	var fs []string
	for _, e := range append(slices.Clone(ecosystems), otherEcosystem) {
		fs = append(fs, pvPrefix+e)
	}
	return fs
}()

// langEcosystems are the ecosystems scientists search by name; distribution
// packages (libc6, zlib) are in every image and would drown the packages
// facet and the free text.
var langEcosystems = map[string]bool{"python": true, "conda": true, "r": true}

// newMapping builds a static mapping: only the fields above are indexed,
// nothing keeps term vectors, and doc values exist only for the three
// columns results are sorted by. Facets are counted from postings, not
// doc values (see facetColumn), so this keeps the index small and Put cheap.
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
	add := func(store, index, docValues bool, analyzer string, fields ...string) {
		for _, f := range fields {
			fm := bleve.NewTextFieldMapping()
			fm.Analyzer, fm.Store, fm.Index, fm.DocValues = analyzer, store, index, docValues
			fm.IncludeTermVectors, fm.IncludeInAll = false, false
			dm.AddFieldMappingsAt(f, fm)
		}
	}
	add(true, true, false, textAnalyzer, fName, fTitle, fDesc)
	add(false, true, false, textAnalyzer, fTagText, fLabelText, fPkgText, fFacts)
	add(true, true, true, keyword.Name, fDigest, fUpdated)
	add(false, true, true, keyword.Name, fRepo)
	add(true, true, false, keyword.Name, fTag, fKind, fPython, fCUDA)
	add(false, true, false, keyword.Name, fNS, fArch, fPlatform, fOS, fOSRel, fR, fJulia, fJava,
		fLicense, fLabel, fAnnot, fLangPkg, fBase)
	add(false, true, false, keyword.Name, pvFields...)
	add(true, false, false, keyword.Name, fOSPretty, fPlatforms, fSize)
	im.DefaultMapping = dm
	im.DefaultAnalyzer = keyword.Name
	im.StoreDynamic, im.IndexDynamic, im.DocValuesDynamic = false, false, false
	return im, nil
}
