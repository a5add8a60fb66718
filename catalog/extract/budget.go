package extract

import (
	"encoding/json"

	"github.com/oyster-registry/oyster/catalog"
)

// bound makes rec fit the budget's problem count and record size, saying
// what it cut. Everything that fills a record is bounded on the way in
// (packages, children, SBOM bytes, a manifest's and a config's size); this
// is the last word on what the store keeps and decodes at every start.
func (x *Extractor) bound(rec *catalog.Record) {
	kept := catalog.Problems{Max: x.Budget.Problems(), Omitted: rec.IndexErrorsOmitted}
	for _, msg := range rec.IndexErrors {
		kept.Add(msg)
	}
	rec.IndexErrors, rec.IndexErrorsOmitted = kept.Kept, kept.Omitted
	if rec.IndexErrorsOmitted > 0 {
		rec.Cut("index errors: %d, over the limit of %d; %d were counted, not listed",
			len(rec.IndexErrors)+rec.IndexErrorsOmitted, x.Budget.Problems(), rec.IndexErrorsOmitted)
	}
	x.fitSize(rec)
}

// fitSize drops what a record can best do without until its encoding fits
// the budget: the tail of its package list first (the list is sorted, a
// half still finds the image), then the free-form parts a manifest or
// config can make big.
func (x *Extractor) fitSize(rec *catalog.Record) {
	most := x.Budget.RecordBytes()
	size := encodedSize(rec)
	if size <= most {
		return
	}
	before := len(rec.Packages)
	for size > most && len(rec.Packages) > 0 {
		rec.Packages = rec.Packages[:len(rec.Packages)/2]
		size = encodedSize(rec)
	}
	if len(rec.Packages) < before {
		rec.Cut("record: over the limit of %d bytes; kept %d of %d packages", most, len(rec.Packages), before)
	}
	for _, drop := range []struct {
		what string
		do   func()
	}{
		{"referrers", func() { rec.Referrers = nil }},
		{"labels and annotations", func() { rec.Labels, rec.Annotations = nil, nil }},
		{"environment, entrypoint and command", func() { rec.Config = catalog.ImageConfig{} }},
		{"layer history and children", func() { rec.Layers, rec.Children = nil, nil }},
		{"SIF details", func() { rec.SIF = nil }},
	} {
		if size <= most {
			return
		}
		drop.do()
		rec.Cut("record: over the limit of %d bytes; its %s were dropped", most, drop.what)
		size = encodedSize(rec)
	}
}

func encodedSize(rec *catalog.Record) int64 {
	raw, err := json.Marshal(rec)
	if err != nil {
		return 0 // the store reports it when it encodes the record
	}
	return int64(len(raw))
}
