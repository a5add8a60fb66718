package web

import (
	"context"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/search"
)

// maxHubImages bounds what one hub request lists; a dropdown of more is of
// no use to a person anyway.
const maxHubImages = 2000

// catalogHub finds hub images with the catalog's search and reads their
// full records from the store, keeping the tags the store's tag index
// resolves to them: a tag that has just moved is offered once, with the
// image it points at now.
type catalogHub struct {
	api   *API
	query string // the configured hub query
}

// HubImages implements HubCatalog.
func (c *catalogHub) HubImages(ctx context.Context, q string) ([]*catalog.Record, error) {
	query := strings.TrimSpace(c.query + " " + q)
	var recs []*catalog.Record
	for page := 1; len(recs) < maxHubImages; page++ {
		resp, err := c.api.Search.Search(ctx, search.Request{Query: query, Sort: "name", Page: page, PerPage: 100, NoFacets: true})
		if err != nil {
			return nil, err
		}
		for _, h := range resp.Results {
			rec, err := c.record(catalog.Ref{Repo: h.Repository, Digest: digest.Digest(h.Digest)})
			if err != nil {
				return nil, err
			}
			if rec != nil {
				recs = append(recs, rec)
			}
		}
		if len(resp.Results) == 0 || page*100 >= resp.Total {
			break
		}
	}
	return recs, nil
}

// record reads ref's record with only the tags that resolve to it.
func (c *catalogHub) record(ref catalog.Ref) (*catalog.Record, error) {
	rec, err := c.api.Store.Record(ref)
	if err != nil || rec == nil {
		return nil, err
	}
	current := make([]string, 0, len(rec.Tags))
	for _, tag := range rec.Tags {
		d, err := c.api.Store.Tag(ref.Repo, tag)
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
