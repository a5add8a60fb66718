// Package web is the HTTP surface beside /v2/: the catalog's JSON API under
// /api/v1/, the hub endpoints, the docker-search endpoint, and the catalog
// UI. It holds no business logic: it asks the catalog and renders the
// answer, in the shapes of package api for JSON.
package web

import (
	"log/slog"
	"net/http"
	"sort"
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
	names, err := a.Store.RepositoryNames()
	if err != nil {
		return err
	}
	out := api.RepositoryList{Total: len(names), Page: p.number, PerPage: p.size, Repositories: []api.RepositorySummary{}}
	for _, name := range window(names, p) {
		d, err := a.repository(name)
		if err != nil {
			return err
		}
		s := api.RepositorySummary{Name: name, Images: len(d.Tags) + d.Untagged, Tags: len(d.Tags)}
		if len(d.Tags) > 0 {
			s.Updated = d.Tags[0].Updated
		}
		out.Repositories = append(out.Repositories, s)
	}
	return respond(w, out)
}

// repository collects the tags of name from its records.
func (a *API) repository(name string) (*api.RepositoryDetail, error) {
	d := &api.RepositoryDetail{Name: name, Tags: []api.TagInfo{}}
	err := a.Store.Records(name, func(rec *catalog.Record) error {
		if len(rec.Tags) == 0 {
			d.Untagged++
		}
		for _, t := range rec.Tags {
			d.Tags = append(d.Tags, api.TagInfo{Tag: t, Digest: rec.Digest, Kind: rec.Kind, Platforms: rec.Platforms, Size: rec.Size, Updated: rec.Updated})
		}
		return nil
	})
	sort.SliceStable(d.Tags, func(i, j int) bool {
		if !d.Tags[i].Updated.Equal(d.Tags[j].Updated) {
			return d.Tags[i].Updated.After(d.Tags[j].Updated)
		}
		return d.Tags[i].Tag < d.Tags[j].Tag
	})
	if len(d.Tags) > 0 {
		d.Tags[0].Newest = true
	}
	return d, err
}

// repositoryFound is name's detail, or NOT_FOUND when it holds nothing.
func (a *API) repositoryFound(name string) (*api.RepositoryDetail, error) {
	d, err := a.repository(name)
	if err == nil && len(d.Tags) == 0 && d.Untagged == 0 {
		return nil, errorf(api.CodeNotFound, "no repository named %s", strconv.Quote(name))
	}
	return d, err
}

func (a *API) repositoryDetail(w http.ResponseWriter, r *http.Request) error {
	d, err := a.repositoryFound(r.PathValue("name"))
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

// lookup is the record of ref, or NOT_FOUND.
func (a *API) lookup(ref string) (*catalog.Record, error) {
	rec, err := a.image(ref)
	if err == nil && rec == nil {
		return nil, errorf(api.CodeNotFound, "no image %s in the catalog", strconv.Quote(ref))
	}
	return rec, err
}

// detail is rec with what is computed on reading it, the images built on
// it, and its pull count. The JSON API and the image page share it.
func (a *API) detail(rec *catalog.Record) (*catalog.Record, uint64, error) {
	out := *rec
	var err error
	if out.DerivedImages, err = a.Store.DerivedImages(rec.Layers); err != nil {
		return nil, 0, err
	}
	pulls, _ := a.Store.Pulls(rec.Ref()) // a count is not worth failing the page for
	return &out, pulls, nil
}

func (a *API) imageDetail(w http.ResponseWriter, r *http.Request) error {
	rec, err := a.lookup(r.PathValue("ref"))
	if err != nil {
		return err
	}
	rec, pulls, err := a.detail(rec)
	if err != nil {
		return err
	}
	return respond(w, imageJSON(rec, pulls))
}

// packages lists one image's packages, filtered by name substring (q) and
// ecosystem.
func (a *API) packages(w http.ResponseWriter, r *http.Request) error {
	p, err := readPage(r, packagePages)
	if err != nil {
		return err
	}
	rec, err := a.lookup(r.PathValue("ref"))
	if err != nil {
		return err
	}
	q := strings.ToLower(r.URL.Query().Get("q"))
	eco := r.URL.Query().Get("ecosystem")
	matched := []catalog.Package{}
	for _, p := range rec.Packages {
		if (q == "" || strings.Contains(strings.ToLower(p.Name), q)) && (eco == "" || p.Ecosystem == eco) {
			matched = append(matched, p)
		}
	}
	return respond(w, api.PackageList{
		Image: rec.Ref().String(), Total: len(matched), Page: p.number, PerPage: p.size, Packages: packagesJSON(window(matched, p)),
	})
}
