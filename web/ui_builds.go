package web

import (
	"net/http"
	"strconv"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/catalog"
)

// buildsView is the builds page; buildView one build with its log.
type buildsView struct {
	frame
	Builds []api.Build
}

type buildView struct {
	frame
	Build api.Build
	Log   string
}

// maxPageLog bounds the log a build page shows; the API serves all of it.
const maxPageLog = 1 << 20

// registerBuildsUI adds the builds pages.
func registerBuildsUI(mux *http.ServeMux, u *ui) {
	b := u.builds
	mux.Handle("GET /builds", secured(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := visibleBuilds(b, viewerOf(r))
		if err != nil {
			u.fail(w, r, err)
			return
		}
		u.render(w, http.StatusOK, "builds", "layout", buildsView{frame: frame{Title: "Builds", Page: "builds", Account: u.accountOf(r)}, Builds: list})
	})))
	mux.Handle("GET /builds/{id}", secured(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		build, err := visibleBuild(b, viewerOf(r), id)
		if isNotFound(err) {
			u.message(w, r, http.StatusNotFound, "Build not found", "There is no build "+strconv.Quote(id)+".")
			return
		}
		if err != nil {
			u.fail(w, r, err)
			return
		}
		var log []byte
		err = b.FollowLog(r.Context(), id, false, func(p []byte) error {
			if len(log) < maxPageLog {
				log = append(log, p[:min(len(p), maxPageLog-len(log))]...)
			}
			return nil
		})
		if err != nil {
			u.fail(w, r, err)
			return
		}
		u.render(w, http.StatusOK, "build", "layout", buildView{frame: frame{Title: "Build " + id, Page: "build", Account: u.accountOf(r)}, Build: build, Log: string(log)})
	})))
}

// recipeOf is the recipe an image was built from, when gitsync built it
// and still has its commit; nil otherwise (the labels stay on the page).
func (u *ui) recipeOf(rec *catalog.Record) *api.RecipeSource {
	source, path, commit := rec.Labels["org.oyster.source"], rec.Labels["org.oyster.recipe"], rec.Labels["org.opencontainers.image.revision"]
	if u.builds == nil || source == "" || path == "" || commit == "" {
		return nil
	}
	rs, err := u.builds.Recipe(source, commit, path)
	if err != nil {
		if !isNotFound(err) {
			u.api.Log.Warn("image page: the recipe", "source", source, "recipe", path, "commit", commit, "error", err)
		}
		return nil
	}
	return &rs
}
