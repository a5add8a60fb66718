package library

import (
	"errors"
	"net/http"
	"strings"

	"github.com/oyster-registry/oyster/catalog/search"
)

// searchImages answers the Library API's GET /v1/search?value=…[&arch=]
// from the catalog: value is a catalog query (free text matches names,
// descriptions and installed packages; filters such as pkg:numpy>=1.26
// work too) over SIF images only.
func (l *Library) searchImages(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	value := strings.TrimSpace(q.Get("value"))
	arch := q.Get("arch")
	switch {
	case len(value) < 3:
		return badRequest("search for at least 3 characters")
	case arch != "" && !part.MatchString(arch):
		return badRequest("architecture %q is not valid", arch)
	case q.Get("signed") == "true":
		return badRequest("this registry does not verify SIF signatures, so it cannot search for signed images")
	case l.search == nil:
		return &apiError{http.StatusServiceUnavailable, "search needs the catalog, which is disabled on this registry"}
	}
	resp, err := l.search.Search(r.Context(), search.Request{Query: value + " type:sif", PerPage: search.MaxPerPage, NoFacets: true})
	var qe *search.QueryError
	if errors.As(err, &qe) {
		return badRequest("%s", qe.Msg)
	}
	if err != nil {
		return err
	}
	out := searchResults{Entities: []entity{}, Collections: []collection{}, Containers: []container{}, Images: []image{}}
	seen := map[string]bool{}
	for _, hit := range resp.Results {
		m, err := l.reg.getManifest(r.Context(), hit.Repository, hit.Digest)
		if isNotFound(err) {
			continue // deleted since it was indexed
		}
		if err != nil {
			return err
		}
		img, ok, err := l.manifestImage(r.Context(), hit.Repository, manifestDescriptor(m), m.parsed)
		if err != nil {
			return err
		}
		if !ok || arch != "" && img.arch != "" && img.arch != arch {
			continue
		}
		img.description = firstOf(img.description, hit.Description, hit.Title)
		out.Images = append(out.Images, imageOf(img, hit.Tags))
		if segs := strings.Split(hit.Repository, "/"); len(segs) == 3 && !seen[hit.Repository] {
			seen[hit.Repository] = true
			out.Containers = append(out.Containers, container{
				ID: pathID(segs...), Name: segs[2], Description: img.description, Collection: pathID(segs[:2]...), CollectionName: segs[1],
				Entity: segs[0], EntityName: segs[0],
			})
		}
	}
	return respond(w, out)
}

func isNotFound(err error) bool {
	var e *apiError
	return errors.As(err, &e) && e.Code == http.StatusNotFound
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
