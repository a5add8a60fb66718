package library

import "net/http"

func (l *Library) routes() *http.ServeMux {
	mux := http.NewServeMux()
	handle := func(pattern string, h handlerFunc) { mux.HandleFunc(pattern, l.serve(h)) }
	handle("GET /version", l.version)
	handle("GET /assets/config/config.prod.json", l.config)
	handle("GET /v1/token-status", l.tokenStatus)
	handle("GET /v1/entities", l.listEntities)
	handle("GET /v1/entities/{path...}", l.getEntity)
	handle("POST /v1/entities", l.createEntity)
	handle("GET /v1/collections/{path...}", l.getCollection)
	handle("POST /v1/collections", l.createCollection)
	handle("GET /v1/containers/{path...}", l.getContainer)
	handle("POST /v1/containers", l.createContainer)
	handle("GET /v1/images/{ref...}", l.getImage)
	handle("POST /v1/images", l.createImage)
	handle("DELETE /v1/images/{ref...}", l.deleteImage)
	handle("GET /v1/tags/{id}", l.getTags)
	handle("POST /v1/tags/{id}", l.setTag)
	handle("GET /v2/tags/{id}", l.getArchTags)
	handle("POST /v2/tags/{id}", l.setArchTag)
	handle("GET /v1/imagefile/{ref...}", l.pull)
	handle("GET /v1/search", l.searchImages)
	l.uploadRoutes(handle)
	mux.HandleFunc("/", l.serve(func(w http.ResponseWriter, r *http.Request) error {
		return &apiError{http.StatusNotFound, "the Library API has no endpoint " + r.Method + " " + r.URL.Path}
	}))
	return mux
}

func (l *Library) version(w http.ResponseWriter, r *http.Request) error {
	return respond(w, map[string]string{"version": "oyster", "apiVersion": APIVersion})
}

// config is the discovery document `apptainer remote add` reads: every
// service this server offers is on this server.
func (l *Library) config(w http.ResponseWriter, r *http.Request) error {
	base := map[string]string{"uri": l.baseURL(r)}
	writeJSON(w, http.StatusOK, map[string]any{"libraryAPI": base, "tokenAPI": base})
	return nil
}

// tokenStatus answers `apptainer remote login` for the token mode in
// force. With auth off every caller, with a token or not, is served. With
// auth on a token the registry accepts is valid (a bad one was refused
// with 401 before this ran), and a request without one is refused too:
// there is no token to check.
func (l *Library) tokenStatus(w http.ResponseWriter, r *http.Request) error {
	if l.auth == nil {
		return respond(w, map[string]string{"status": "valid", "message": "this registry checks no tokens: every request is anonymous"})
	}
	id := CallerOf(r.Context())
	if id.Name == "" {
		return &apiError{http.StatusUnauthorized, "no token was sent"}
	}
	return respond(w, map[string]string{"status": "valid", "message": "the token of " + id.Name})
}
