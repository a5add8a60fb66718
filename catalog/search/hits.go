package search

import (
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"
)

// page loads the stored fields of the requested page of hits.
func (r *run) page(ix *Index) ([]Hit, error) {
	a := ix.bi.Mapping().AnalyzerNamed(textAnalyzer)
	words := map[string]bool{}
	for _, tm := range r.text {
		for _, t := range tm.tokens {
			words[t] = true
		}
	}
	out := []Hit{}
	for _, c := range r.top() {
		h, err := r.hit(c)
		if err != nil {
			return nil, err
		}
		h.Score = float64(c.score)
		h.Highlights = highlights(a, words, map[string]string{
			"repository": h.Repository, "title": h.Title, "description": h.Description,
		})
		out = append(out, h)
	}
	return out, nil
}

// hit reads a document's stored fields.
func (r *run) hit(c cand) (Hit, error) {
	var h Hit
	err := r.views[c.seg].seg.VisitStoredFields(uint64(c.doc), func(field string, _ byte, value []byte, _ []uint64) bool {
		s := string(value)
		switch field {
		case fName:
			h.Repository = s
		case fDigest:
			h.Digest = s
		case fTag:
			h.Tags = append(h.Tags, s)
		case fKind:
			h.Kind = s
		case fTitle:
			h.Title = s
		case fDesc:
			h.Description = s
		case fPlatforms:
			h.Platforms = append(h.Platforms, s)
		case fUpdated:
			h.Updated, _ = time.Parse(updatedLayout, s)
		case fSize:
			h.Size, _ = strconv.ParseInt(s, 10, 64)
		case fPython:
			h.Python = s
		case fCUDA:
			h.CUDA = s
		case fOSPretty:
			h.OS = s
		}
		return true
	})
	return h, err
}

// highlights marks the words of the query in each text that holds one,
// escaping the rest for HTML; texts without a match are left out.
func highlights(a analysis.Analyzer, words map[string]bool, texts map[string]string) map[string][]string {
	if len(words) == 0 {
		return nil
	}
	var out map[string][]string
	for name, text := range texts {
		var b strings.Builder
		last, marked := 0, false
		for _, t := range a.Analyze([]byte(text)) {
			if !words[string(t.Term)] {
				continue
			}
			b.WriteString(html.EscapeString(text[last:t.Start]))
			b.WriteString("<mark>" + html.EscapeString(text[t.Start:t.End]) + "</mark>")
			last, marked = t.End, true
		}
		if !marked {
			continue
		}
		b.WriteString(html.EscapeString(text[last:]))
		if out == nil {
			out = map[string][]string{}
		}
		out[name] = []string{b.String()}
	}
	return out
}
