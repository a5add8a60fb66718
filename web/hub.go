package web

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/catalog"
)

// The hub endpoints in three files: this one speaks HTTP, hub_summary.go
// turns records into one choice per tag with a plain-text summary, and
// hub_profiles.go shapes the choices for KubeSpawner and DockerSpawner.

// HubCatalog tells the hub endpoints which images a JupyterHub may offer.
// The registry implements it over the search index and the state store
// (search.HubSource); tests implement it in memory. It returns records because a profile names
// the image's runtimes and key packages, which search hits do not carry;
// but only these fields are read: Repository, Digest, Kind, Tags, Updated,
// Size, OCI.Title, OCI.Description, Runtimes, CUDA and Packages (language
// ecosystems only). Decoding a thousand whole records from the store costs
// seconds, so an implementation should keep or build just these.
type HubCatalog interface {
	// HubImages returns the records matching the configured hub query and,
	// when q is not empty, q as well: only those a hub can start
	// (Record.Startable), each once. A q the caller got wrong is a
	// *search.QueryError, which the endpoints answer with 400. visible,
	// when not nil, keeps only the repositories it accepts: the ones the
	// caller may pull.
	HubImages(ctx context.Context, q string, visible func(repo string) bool) ([]*catalog.Record, error)
}

// Hub serves the JupyterHub endpoints: /api/v1/hub/profiles (a KubeSpawner
// profile_list) and /api/v1/hub/images (DockerSpawner allowed_images).
// Every image is pinned by digest so that a session can be reproduced
// whatever happens to the tag later.
type Hub struct {
	Catalog HubCatalog
	// RegistryHost is the host[:port] in the pinned references, the name
	// hubs pull from; empty means the Host of each request.
	RegistryHost string
	Log          *slog.Logger
	// PerCaller is set when auth is on: each caller gets the images they
	// may pull, so the answers are no longer for any web page to read.
	PerCaller bool
}

// Register adds the hub endpoints, and only them, to mux.
func (h *Hub) Register(mux *http.ServeMux) {
	registerRoutes(mux, h.Log, h.routes())
}

func (h *Hub) routes() []route {
	return []route{
		{"GET", "/api/v1/hub/profiles", h.anyOrigin(h.profiles)},
		{"GET", "/api/v1/hub/images", h.anyOrigin(h.images)},
	}
}

// anyOrigin lets any web page read the answers, errors included: spawn
// pages run on the hub's origin and search here from the browser, and,
// with auth off, the answers are the same for everyone. With auth on
// they are a caller's own, so the header is not sent.
func (h *Hub) anyOrigin(next handlerFunc) handlerFunc {
	if h.PerCaller {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		return next(w, r)
	}
}

// profiles answers a KubeSpawner profile_list: one profile per tagged image,
// the first the default. options=1 appends one profile whose image
// dropdown lists every image and also accepts any digest-pinned image of
// this registry; options=only answers with that profile alone, which suits
// hubs offering more images than radio buttons can show.
func (h *Hub) profiles(w http.ResponseWriter, r *http.Request) error {
	mode := r.URL.Query().Get("options")
	if mode != "" && mode != "0" && mode != "1" && mode != "only" {
		return errorf(api.CodeInvalidOptions, `options must be 0, 1 or "only"`)
	}
	choices, host, err := h.choices(r)
	if err != nil {
		return err
	}
	return respond(w, kubeProfiles(choices, host, mode))
}

// images answers DockerSpawner allowed_images: display name → pinned image,
// in the order the hub should list them.
func (h *Hub) images(w http.ResponseWriter, r *http.Request) error {
	choices, _, err := h.choices(r)
	if err != nil {
		return err
	}
	return respond(w, allowedImages(choices))
}

// choices asks the catalog for the request's images, and the host that
// pins them.
func (h *Hub) choices(r *http.Request) ([]hubChoice, string, error) {
	host, err := h.host(r)
	if err != nil {
		return nil, "", err
	}
	recs, err := h.Catalog.HubImages(r.Context(), r.URL.Query().Get("q"), viewerOf(r).mayPull)
	if err != nil {
		return nil, "", err
	}
	return hubChoices(recs, host), host, nil
}

// hostPattern is host[:port] with a DNS name, IPv4 or bracketed IPv6
// address: nothing that could break out of an image reference or the
// validation regex built from it.
var hostPattern = regexp.MustCompile(`^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$`)

// host is the registry host for the pinned references: a bad configured
// host is the registry's fault, a bad Host header the client's.
func (h *Hub) host(r *http.Request) (string, error) {
	if h.RegistryHost != "" {
		if !hostPattern.MatchString(h.RegistryHost) {
			return "", errorf(api.CodeMisconfigured, "hub.registry_host %s is not host[:port]", strconv.Quote(h.RegistryHost))
		}
		return h.RegistryHost, nil
	}
	if !hostPattern.MatchString(r.Host) {
		return "", errorf(api.CodeInvalidHost, "the request's Host %s is not host[:port]", strconv.Quote(r.Host))
	}
	return r.Host, nil
}
