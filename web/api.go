// Package web is the HTTP surface beside /v2/: the catalog's JSON API under
// /api/v1/, the hub endpoints, the docker-search endpoint, and the catalog
// UI. It holds no business logic: it asks the catalog and renders the
// answer, in the shapes of package api for JSON.
package web

import (
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/search"
)

// API serves the catalog's JSON API.
type API struct {
	Store  catalog.Store
	Search *search.Index
	Log    *slog.Logger
}

func (a *API) repositories(w http.ResponseWriter, r *http.Request) error {
	p, err := readPage(r, repositoryPages)
	if err != nil {
		return err
	}
	v := viewerOf(r)
	names, err := a.visibleRepositories(v)
	if err != nil {
		return err
	}
	out := api.RepositoryList{Total: len(names), Page: p.number, PerPage: p.size, Repositories: []api.RepositorySummary{}}
	for _, name := range window(names, p) {
		d, err := a.repository(v, name)
		if err != nil {
			return err
		}
		s := api.RepositorySummary{Name: name, Images: len(d.Tags) + d.Untagged, Tags: len(d.Tags), Private: d.Private}
		if len(d.Tags) > 0 {
			s.Updated = d.Tags[0].Updated
		}
		out.Repositories = append(out.Repositories, s)
	}
	return respond(w, out)
}

// visibleRepositories lists, in order, the repositories with records
// that v may see.
func (a *API) visibleRepositories(v viewer) ([]string, error) {
	names, err := a.Store.RepositoryNames()
	if err != nil || v.mayPull == nil {
		return names, err
	}
	return slices.DeleteFunc(names, func(name string) bool { return !v.sees(name) }), nil
}

// repository is name's tags, newest first, as the catalog resolves them;
// the caller has checked that v may see it.
func (a *API) repository(v viewer, name string) (*api.RepositoryDetail, error) {
	tags, untagged, err := a.Store.RepositoryTags(name)
	if err != nil {
		return nil, err
	}
	d := &api.RepositoryDetail{Name: name, Tags: make([]api.TagInfo, len(tags)), Untagged: untagged, Private: v.private(name)}
	for i, t := range tags {
		rec := t.Record
		d.Tags[i] = api.TagInfo{Tag: t.Tag, Digest: rec.Digest, Kind: rec.Kind, Platforms: rec.Platforms, Size: rec.Size, Updated: rec.Updated, Newest: i == 0}
	}
	return d, nil
}

// repositoryFound is name's detail, or NOT_FOUND when it holds nothing
// or v may not see it: the same answer, so that a private name does not
// leak.
func (a *API) repositoryFound(v viewer, name string) (*api.RepositoryDetail, error) {
	if !v.sees(name) {
		return nil, errorf(api.CodeNotFound, "no repository named %s", strconv.Quote(name))
	}
	d, err := a.repository(v, name)
	if err == nil && len(d.Tags) == 0 && d.Untagged == 0 {
		return nil, errorf(api.CodeNotFound, "no repository named %s", strconv.Quote(name))
	}
	return d, err
}

func (a *API) repositoryDetail(w http.ResponseWriter, r *http.Request) error {
	d, err := a.repositoryFound(viewerOf(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	return respond(w, d)
}

// image resolves "name@digest" or "name:tag" (through the store's tag
// index) to its record.
func (a *API) image(ref string) (*catalog.Record, error) {
	if name, d, ok := strings.Cut(ref, "@"); ok {
		return a.Store.Record(catalog.Ref{Repo: name, Digest: digest.Digest(d)})
	}
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return nil, nil
	}
	name, tag := ref[:i], ref[i+1:]
	d, err := a.Store.Tag(name, tag)
	if err != nil || d == "" {
		return nil, err
	}
	return a.Store.Record(catalog.Ref{Repo: name, Digest: d})
}

// lookup is the record of ref, or NOT_FOUND when there is none or v may
// not see it: the same answer, so that a private name does not leak.
func (a *API) lookup(v viewer, ref string) (*catalog.Record, error) {
	rec, err := a.image(ref)
	if err == nil && (rec == nil || !v.sees(rec.Repository)) {
		return nil, errorf(api.CodeNotFound, "no image %s in the catalog", strconv.Quote(ref))
	}
	return rec, err
}

// detail is rec with what is computed on reading it, the images built on
// it, and its pull count; the images it is built on and those built on it
// are only those v may see. The JSON API and the image page share it.
func (a *API) detail(v viewer, rec *catalog.Record) (*catalog.Record, uint64, error) {
	out := *rec
	derived, err := a.Store.DerivedImages(rec.Layers)
	if err != nil {
		return nil, 0, err
	}
	out.DerivedImages, out.BaseImages = v.seenRefs(derived), v.seenRefs(rec.BaseImages)
	pulls, _ := a.Store.Pulls(rec.Ref()) // a count is not worth failing the page for
	return &out, pulls, nil
}

func (a *API) imageDetail(w http.ResponseWriter, r *http.Request) error {
	v := viewerOf(r)
	rec, err := a.lookup(v, r.PathValue("ref"))
	if err != nil {
		return err
	}
	rec, pulls, err := a.detail(v, rec)
	if err != nil {
		return err
	}
	return respond(w, imageJSON(rec, pulls, v.private(rec.Repository)))
}

// packages lists one image's packages, filtered by name substring (q) and
// ecosystem.
func (a *API) packages(w http.ResponseWriter, r *http.Request) error {
	p, err := readPage(r, packagePages)
	if err != nil {
		return err
	}
	rec, err := a.lookup(viewerOf(r), r.PathValue("ref"))
	if err != nil {
		return err
	}
	matched := catalog.FindPackages(rec.Packages, r.URL.Query().Get("q"), r.URL.Query().Get("ecosystem"))
	return respond(w, api.PackageList{
		Image: rec.Ref().String(), Total: len(matched), Page: p.number, PerPage: p.size, Packages: packagesJSON(window(matched, p)),
	})
}
