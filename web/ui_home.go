package web

import (
	"net/http"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/search"
)

// How many images each list on the home page shows.
const homeListSize = 8

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
}

// pushStep is a heading and the commands under it.
type pushStep struct {
	Heading  string
	Commands []string
}

func (u *ui) home(w http.ResponseWriter, r *http.Request) {
	v := homeView{
		frame: frame{Page: "home"},
		Host:  registryHost(r.Host), PlainHTTP: plainHTTP(r.TLS != nil, r.Header.Get("X-Forwarded-Proto")),
	}
	if err := u.fillHome(r, &v); err != nil {
		u.fail(w, err)
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
	if v.Images, err = u.api.Search.Count(); err != nil || v.Images == 0 {
		return err
	}
	names, err := u.api.Store.RepositoryNames()
	if err != nil {
		return err
	}
	v.Repositories = len(names)
	if v.Recent, err = u.recent(r); err != nil {
		return err
	}
	pulled, err := u.api.Store.MostPulled(homeListSize)
	for _, p := range pulled {
		v.Popular = append(v.Popular, newPulledView(p))
	}
	return err
}

func newPulledView(p catalog.Pulled) pulledView {
	v := pulledView{Repository: p.Record.Repository, Title: p.Record.OCI.Title, URL: imageURL(p.Record.Repository, p.Record.Digest.String()), Pulls: int(p.Pulls)}
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
	})
	if err != nil {
		return nil, err
	}
	out := make([]hitView, 0, len(resp.Results))
	for _, h := range resp.Results {
		out = append(out, newHitView(h))
	}
	return out, nil
}
