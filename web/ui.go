package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/oyster-registry/oyster/auth"
	"github.com/oyster-registry/oyster/catalog/stage"
)

// The UI is server-rendered: every page works without JavaScript, and
// static/ui.js only adds as-you-type search, copy buttons and the package
// filter. Templates and assets are embedded so that the binary serves the
// whole site offline, with no CDN or web font.
//
//go:embed templates static
var uiFiles embed.FS

// contentSecurityPolicy allows nothing inline and nothing from elsewhere:
// labels, annotations and package data are written by whoever pushed an
// image, so even an escaping bug must not be able to run script.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// ui serves the catalog's HTML pages from the same data as the JSON API.
type ui struct {
	api   *API
	stage *stage.Planner // nil: no staging pages or sections
	// builds, if set, adds the builds pages and the recipe section of
	// images built from Git.
	builds Builds
	// auth, when auth is on, adds login, logout and the token pages, and
	// the login state to every page's header.
	auth  *auth.Service
	pages map[string]*template.Template
}

// registerUI adds the UI's routes to mux; "/" catches every path nothing
// else claims and answers with the 404 page.
func registerUI(mux *http.ServeMux, api *API, planner *stage.Planner, builds Builds, svc *auth.Service) *ui {
	u := &ui{api: api, stage: planner, builds: builds, auth: svc, pages: uiPages}
	mux.Handle("GET /static/", secured(staticHandler()))
	mux.Handle("GET /{$}", secured(http.HandlerFunc(u.home)))
	mux.Handle("GET /search", secured(http.HandlerFunc(u.search)))
	mux.Handle("GET /search/results", secured(http.HandlerFunc(u.searchResults)))
	mux.Handle("GET /repo/{name...}", secured(http.HandlerFunc(u.repository)))
	mux.Handle("GET /image/{ref...}", secured(http.HandlerFunc(u.image)))
	if planner != nil {
		mux.Handle("GET /stagers", secured(http.HandlerFunc(u.stagers)))
	}
	if builds != nil {
		registerBuildsUI(mux, u)
	}
	if svc != nil {
		registerLogin(mux, u)
	}
	mux.Handle("/", secured(http.HandlerFunc(u.notFound)))
	return u
}

// secured sets the headers every UI response carries.
func secured(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// staticHandler serves the embedded assets. Their URLs carry a content
// hash (see assetURL), so a versioned request may be cached for good.
func staticHandler() http.Handler {
	sub, err := fs.Sub(uiFiles, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}

// assetURLs maps each static file to its URL with a content hash.
var assetURLs = func() map[string]string {
	out := map[string]string{}
	err := fs.WalkDir(uiFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := uiFiles.ReadFile(p)
		sum := sha256.Sum256(raw)
		out[path.Base(p)] = "/" + p + "?v=" + hex.EncodeToString(sum[:6])
		return err
	})
	if err != nil {
		panic(err)
	}
	return out
}()

// uiPages holds one template set per page: the layout and partials plus
// the page's own "content".
var uiPages = func() map[string]*template.Template {
	base := template.Must(template.New("").Funcs(uiFuncs).ParseFS(uiFiles, "templates/layout.html", "templates/partials.html"))
	pages, err := fs.Glob(uiFiles, "templates/page_*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(path.Base(p), "page_"), ".html")
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(uiFiles, p))
	}
	return out
}()

// render writes template tmpl of page with status. It renders into a
// buffer first, so that a template error becomes a clean 500 rather than
// half a page.
func (u *ui) render(w http.ResponseWriter, status int, page, tmpl string, data any) {
	var buf bytes.Buffer
	if err := u.pages[page].ExecuteTemplate(&buf, tmpl, data); err != nil {
		u.api.Log.Error("rendering catalog page", "page", page, "error", err)
		http.Error(w, "the page could not be rendered; see the registry log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// frame is what the layout needs on every page.
type frame struct {
	Title string // in <title>, after the site name
	Query string // the search box's value
	Sort  string
	// Page names the page for the layout (body class, which nav is current).
	Page string
	// Account is the header's login state.
	Account account
}

// messageView is a page that only says something: not found, or an error.
type messageView struct {
	frame
	Heading string
	Text    string
}

func (u *ui) notFound(w http.ResponseWriter, r *http.Request) {
	u.message(w, r, http.StatusNotFound, "Not found", "There is no page at "+r.URL.Path+". Search the catalog instead.")
}

func (u *ui) message(w http.ResponseWriter, r *http.Request, status int, heading, text string) {
	v := messageView{frame: frame{Title: heading, Page: "message", Account: u.accountOf(r)}, Heading: heading, Text: text}
	u.render(w, status, "message", "layout", v)
}

// fail logs err and answers with the error page.
func (u *ui) fail(w http.ResponseWriter, r *http.Request, err error) {
	u.api.Log.Error("catalog UI", "error", err)
	u.message(w, r, http.StatusInternalServerError, "Something went wrong", "The catalog could not answer; the registry log says why.")
}
