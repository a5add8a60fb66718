package web

import (
	"net/http"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/search"
)

// How many images each list on the home page shows.
const homeListSize = 8

// popularScan is how many of the most pulled images the home page reads
// to find homeListSize the caller may see: a bound on the work, so a
// caller who may see few of them gets a shorter list.
const popularScan = 8 * homeListSize

// homeView is the home page: counts and two short lists, or, when the
// catalog is empty, how to push the first image.
type homeView struct {
	frame
	Images       int
	Repositories int
	Recent       []hitView
	Popular      []pulledView
	// FirstPush and PlainHTTP are for the empty catalog.
	FirstPush []pushStep
	PlainHTTP bool
	Host      string
}

// pulledView is one image of the most-pulled list.
type pulledView struct {
	Repository, Tag, Title, URL string
	Pulls                       int
	Private                     bool // not everyone may pull it
}

// pushStep is a heading and the commands under it.
type pushStep struct {
	Heading  string
	Commands []string
}

func (u *ui) home(w http.ResponseWriter, r *http.Request) {
	v := homeView{
		frame: frame{Page: "home", Account: u.accountOf(r)},
		Host:  registryHost(r.Host), PlainHTTP: plainHTTP(r.TLS != nil, r.Header.Get("X-Forwarded-Proto")),
	}
	if err := u.fillHome(r, &v); err != nil {
		u.fail(w, r, err)
		return
	}
	if v.Images == 0 {
		v.FirstPush = firstPush(v.Host, v.PlainHTTP)
	}
	u.render(w, http.StatusOK, "home", "layout", v)
}

// firstPush says how to put a first image into the registry at host,
// with the switches clients need for plain HTTP.
func firstPush(host string, plain bool) []pushStep {
	tls, noHTTPS := "", ""
	if plain {
		tls, noHTTPS = " --dest-tls-verify=false", " --no-https"
	}
	return []pushStep{
		{"Copy an existing image in", []string{
			"skopeo copy" + tls + " docker://docker.io/library/python:3.12-slim docker://" + host + "/library/python:3.12-slim",
		}},
		{"Or push one you built", []string{
			"docker tag my-image " + host + "/my-team/my-image:1.0",
			"docker push " + host + "/my-team/my-image:1.0",
		}},
		{"Apptainer SIF files", []string{
			"apptainer push" + noHTTPS + " my-tool.sif oras://" + host + "/my-team/my-tool:1.0",
		}},
	}
}

func (u *ui) fillHome(r *http.Request, v *homeView) error {
	var err error
	viewer := viewerOf(r)
	if v.Images, err = u.visibleImages(r); err != nil || v.Images == 0 {
		return err
	}
	names, err := u.api.visibleRepositories(viewer)
	if err != nil {
		return err
	}
	v.Repositories = len(names)
	if v.Recent, err = u.recent(r); err != nil {
		return err
	}
	v.Popular, err = u.popular(viewer)
	return err
}

// visibleImages counts the images the caller may see.
func (u *ui) visibleImages(r *http.Request) (int, error) {
	mayPull := viewerOf(r).mayPull
	if mayPull == nil {
		return u.api.Search.Count()
	}
	resp, err := u.api.Search.Search(r.Context(), search.Request{PerPage: 1, NoFacets: true, Visible: mayPull})
	if err != nil {
		return 0, err
	}
	return resp.Total, nil
}

// popular lists the most pulled images the viewer may see, among the
// popularScan most pulled.
func (u *ui) popular(v viewer) ([]pulledView, error) {
	scan := homeListSize
	if v.mayPull != nil {
		scan = popularScan
	}
	pulled, err := u.api.Store.MostPulled(scan)
	var out []pulledView
	for _, p := range pulled {
		if len(out) < homeListSize && v.sees(p.Record.Repository) {
			out = append(out, newPulledView(p, v.private(p.Record.Repository)))
		}
	}
	return out, err
}

func newPulledView(p catalog.Pulled, private bool) pulledView {
	v := pulledView{
		Repository: p.Record.Repository, Title: p.Record.OCI.Title, URL: imageURL(p.Record.Repository, p.Record.Digest.String()),
		Pulls: int(p.Pulls), Private: private,
	}
	if len(p.Record.Tags) > 0 {
		v.Tag = p.Record.Tags[0]
	}
	return v
}

// recent lists recently updated images, one per repository, so that a
// repository pushed many times in a row does not fill the list.
func (u *ui) recent(r *http.Request) ([]hitView, error) {
	resp, err := u.api.Search.Search(r.Context(), search.Request{
		Sort: search.SortUpdated, PerPage: homeListSize, Facets: []string{"type"}, OnePerRepository: true,
		Visible: viewerOf(r).mayPull,
	})
	if err != nil {
		return nil, err
	}
	out := make([]hitView, 0, len(resp.Results))
	for _, h := range resp.Results {
		out = append(out, newHitView(h, viewerOf(r).private(h.Repository)))
	}
	return out, nil
}
