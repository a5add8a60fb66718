// Package web is the HTTP surface beside /v2/: the catalog's JSON API under
// /api/v1/, the docker-search endpoint, and the catalog UI. It holds no
// business logic: it asks the catalog and renders the answer.
package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/search"
)

// API serves the catalog's JSON API.
type API struct {
	Store  *catalog.Store
	Search *search.Index
	Log    *slog.Logger
}

// apiError is the body of every /api/v1 error: {"error":{"code","message"}}.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, message
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// paging reads page (1-based) and per_page, with bounds.
func paging(r *http.Request, defaultPer, maxPer int) (page, per int, err error) {
	page, per = 1, defaultPer
	if v := r.URL.Query().Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			return 0, 0, errors.New("page must be a positive integer")
		}
	}
	if v := r.URL.Query().Get("per_page"); v != "" {
		if per, err = strconv.Atoi(v); err != nil || per < 1 || per > maxPer {
			return 0, 0, errors.New("per_page must be between 1 and " + strconv.Itoa(maxPer))
		}
	}
	return page, per, nil
}

func window[T any](items []T, page, per int) []T {
	start := (page - 1) * per
	if start >= len(items) {
		return []T{}
	}
	return items[start:min(start+per, len(items))]
}

// RepositorySummary is one row of the repository listing.
type RepositorySummary struct {
	Name    string    `json:"name"`
	Images  int       `json:"images"`
	Tags    int       `json:"tags"`
	Updated time.Time `json:"updated"`
}

// TagInfo is one tag of a repository.
type TagInfo struct {
	Tag       string    `json:"tag"`
	Digest    string    `json:"digest"`
	Kind      string    `json:"kind"`
	Platforms []string  `json:"platforms"`
	Size      int64     `json:"size"`
	Updated   time.Time `json:"updated"`
	Newest    bool      `json:"newest"`
}

// RepositoryDetail is a repository with its tags, newest first.
type RepositoryDetail struct {
	Name string    `json:"name"`
	Tags []TagInfo `json:"tags"`
	// Untagged counts manifests with no tag (index children, referrers).
	Untagged int `json:"untagged"`
}

func (a *API) repositories(w http.ResponseWriter, r *http.Request) {
	page, per, err := paging(r, 50, 500)
	if err != nil {
		writeError(w, http.StatusBadRequest, "PAGINATION_INVALID", err.Error())
		return
	}
	names, err := a.Store.RepositoryNames()
	if err != nil {
		a.internal(w, err)
		return
	}
	out := []RepositorySummary{}
	for _, name := range window(names, page, per) {
		d, err := a.repository(name)
		if err != nil {
			a.internal(w, err)
			return
		}
		s := RepositorySummary{Name: name, Images: len(d.Tags) + d.Untagged, Tags: len(d.Tags)}
		if len(d.Tags) > 0 {
			s.Updated = d.Tags[0].Updated
		}
		out = append(out, s)
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(names), "page": page, "per_page": per, "repositories": out})
}

// repository collects the tags of name from its records.
func (a *API) repository(name string) (*RepositoryDetail, error) {
	d := &RepositoryDetail{Name: name, Tags: []TagInfo{}}
	err := a.Store.Records(name, func(rec *catalog.Record) error {
		if len(rec.Tags) == 0 {
			d.Untagged++
		}
		for _, t := range rec.Tags {
			d.Tags = append(d.Tags, TagInfo{Tag: t, Digest: rec.Digest, Kind: rec.Kind, Platforms: rec.Platforms, Size: rec.Size, Updated: rec.Updated})
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

func (a *API) repositoryDetail(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	d, err := a.repository(name)
	if err != nil {
		a.internal(w, err)
		return
	}
	if len(d.Tags) == 0 && d.Untagged == 0 {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no repository named "+strconv.Quote(name))
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// ImageDetail is a whole record plus what is computed on reading it.
type ImageDetail struct {
	*catalog.Record
	Pulls uint64 `json:"pulls"`
}

// image resolves "name@digest" or "name:tag" to its record.
func (a *API) image(ref string) (*catalog.Record, error) {
	if name, digest, ok := strings.Cut(ref, "@"); ok {
		return a.Store.Record(name + "@" + digest)
	}
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return nil, nil
	}
	name, tag := ref[:i], ref[i+1:]
	var found *catalog.Record
	err := a.Store.Records(name, func(rec *catalog.Record) error {
		for _, t := range rec.Tags {
			if t == tag {
				found = rec
			}
		}
		return nil
	})
	return found, err
}

func (a *API) imageRoutes(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("ref")
	if strings.HasSuffix(ref, "/packages") {
		a.packages(w, r, strings.TrimSuffix(ref, "/packages"))
		return
	}
	rec, ok := a.lookup(w, ref)
	if !ok {
		return
	}
	d, err := a.detail(rec)
	if err != nil {
		a.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (a *API) lookup(w http.ResponseWriter, ref string) (*catalog.Record, bool) {
	rec, err := a.image(ref)
	if err != nil {
		a.internal(w, err)
		return nil, false
	}
	if rec == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no image "+strconv.Quote(ref)+" in the catalog")
		return nil, false
	}
	return rec, true
}

// packages lists one image's packages, filtered by name substring (q) and
// ecosystem.
func (a *API) packages(w http.ResponseWriter, r *http.Request, ref string) {
	rec, ok := a.lookup(w, ref)
	if !ok {
		return
	}
	page, per, err := paging(r, 100, 1000)
	if err != nil {
		writeError(w, http.StatusBadRequest, "PAGINATION_INVALID", err.Error())
		return
	}
	q := strings.ToLower(r.URL.Query().Get("q"))
	eco := r.URL.Query().Get("ecosystem")
	matched := []catalog.Package{}
	for _, p := range rec.Packages {
		if (q == "" || strings.Contains(strings.ToLower(p.Name), q)) && (eco == "" || p.Ecosystem == eco) {
			matched = append(matched, p)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"image": rec.Key(), "total": len(matched), "page": page, "per_page": per, "packages": window(matched, page, per),
	})
}

func (a *API) internal(w http.ResponseWriter, err error) {
	a.Log.Error("catalog API", "error", err)
	writeError(w, http.StatusInternalServerError, "INTERNAL", "the catalog could not answer; see the registry log")
}
