package library

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/oyster-registry/oyster/catalog/search"
)

// searchImages answers the Library API's GET /v1/search?value=…[&arch=]
// from the catalog: value is a catalog query (free text matches names,
// descriptions and installed packages; filters such as pkg:numpy>=1.26
// work too), answered with the SIF images of the hits, those of an
// index's architectures included.
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
	// An index is a hit of its own, its SIF children untagged: ask for
	// both and keep the SIFs.
	resp, err := l.search.Search(r.Context(), search.Request{
		Query: value + " -type:image -type:artifact", PerPage: search.MaxPerPage, NoFacets: true, Visible: l.visible(r.Context()),
	})
	var qe *search.QueryError
	if errors.As(err, &qe) {
		return badRequest("%s", qe.Msg)
	}
	if err != nil {
		return err
	}
	out := searchResults{Entities: []entity{}, Collections: []collection{}, Containers: []container{}, Images: []image{}}
	images := map[string]int{} // image ID → its place in out.Images
	for _, hit := range resp.Results {
		imgs, err := l.tagImages(r.Context(), hit.Repository, hit.Digest)
		if isNotFound(err) {
			continue // deleted since it was indexed
		}
		if err != nil {
			return err
		}
		for _, img := range imgs {
			if arch != "" && img.arch != "" && img.arch != arch {
				continue
			}
			img.description = firstOf(img.description, hit.Description, hit.Title)
			im := imageOf(img, hit.Tags)
			if i, ok := images[im.ID]; ok {
				out.Images[i].Tags = append(out.Images[i].Tags, hit.Tags...)
				continue
			}
			images[im.ID] = len(out.Images)
			out.Images = append(out.Images, im)
			out.Containers = appendContainer(out.Containers, img)
		}
	}
	return respond(w, out)
}

// appendContainer adds img's container to cs, once; only three-segment
// repositories are containers.
func appendContainer(cs []container, img sifImage) []container {
	segs := strings.Split(img.repo, "/")
	id := pathID(segs...)
	if len(segs) != 3 || slices.ContainsFunc(cs, func(c container) bool { return c.ID == id }) {
		return cs
	}
	return append(cs, container{
		ID: id, Name: segs[2], Description: img.description, Collection: pathID(segs[:2]...), CollectionName: segs[1],
		Entity: segs[0], EntityName: segs[0],
	})
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
