package search

import (
	"context"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
)

// MaxHubImages bounds what one hub request lists; a dropdown of more is of
// no use to a person anyway.
const MaxHubImages = 2000

// HubSource finds the images a JupyterHub may start: the configured hub
// query's matches that are images or indexes, each once, read from the
// store with the tags the store's tag index resolves to them, so that a
// tag that has just moved is offered once, with the image it points at now.
type HubSource struct {
	Index *Index
	Store catalog.Store
	Query string // the configured hub query
}

// HubImages returns the startable records matching the hub query and,
// when q is not empty, q as well, in name order, only of the repositories
// visible accepts (nil: all). A q the caller got wrong is a *QueryError.
func (h *HubSource) HubImages(ctx context.Context, q string, visible func(repo string) bool) ([]*catalog.Record, error) {
	query := strings.TrimSpace(h.Query + " " + q)
	var recs []*catalog.Record
	seen := map[catalog.Ref]bool{}
	for page := 1; len(recs) < MaxHubImages; page++ {
		resp, err := h.Index.Search(ctx, Request{Query: query, Sort: SortName, Page: page, PerPage: MaxPerPage, NoFacets: true, Visible: visible})
		if err != nil {
			return nil, err
		}
		for _, hit := range resp.Results {
			ref := catalog.Ref{Repo: hit.Repository, Digest: digest.Digest(hit.Digest)}
			if seen[ref] {
				continue
			}
			seen[ref] = true
			rec, err := h.record(ref)
			if err != nil {
				return nil, err
			}
			if rec != nil && rec.Startable() {
				recs = append(recs, rec)
			}
		}
		if len(resp.Results) == 0 || page*MaxPerPage >= resp.Total {
			break
		}
	}
	return recs, nil
}

// record reads ref's record with only the tags that resolve to it.
func (h *HubSource) record(ref catalog.Ref) (*catalog.Record, error) {
	rec, err := h.Store.Record(ref)
	if err != nil || rec == nil {
		return nil, err
	}
	current := make([]string, 0, len(rec.Tags))
	for _, tag := range rec.Tags {
		d, err := h.Store.Tag(ref.Repo, tag)
		if err != nil {
			return nil, err
		}
		if d == ref.Digest {
			current = append(current, tag)
		}
	}
	rec.Tags = current
	return rec, nil
}
