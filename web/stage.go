package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/auth"
	"github.com/oyster-registry/oyster/catalog/stage"
)

// Stage serves the stagers' endpoints: the staging list each cluster's
// stagers follow, admin pins, hub selections and the nodes' inventories.
// catalog/stage decides; this only routes.
type Stage struct {
	Planner *stage.Planner
	// Accounts, when auth is on, says who sends the writes: pins need a
	// site admin, inventories a caller with credentials (a stager's
	// robot token). Nil: auth off, anyone may.
	Accounts *auth.Service
}

// require refuses r unless auth is off or its sender has credentials
// (and, with admin, is a site admin).
func (s *Stage) require(r *http.Request, admin bool) error {
	if s.Accounts == nil {
		return nil
	}
	id, err := s.Accounts.Identify(r)
	switch {
	case err != nil:
		return errorf(api.CodeUnauthorized, "the credentials sent were refused (wrong, expired or revoked)")
	case id.Name == "":
		return errorf(api.CodeUnauthorized, "send credentials: %s %s needs them", r.Method, r.URL.Path)
	case admin && !id.Admin:
		return errorf(api.CodeForbidden, "%s is not a site admin: only site admins pin images", id.Name)
	}
	return nil
}

func (s *Stage) routes() []route {
	return []route{
		{"GET", "/api/v1/stage", s.list},
		{"GET", "/api/v1/stage/pins", s.pins},
		{"PUT", "/api/v1/stage/pins", s.pin},
		{"DELETE", "/api/v1/stage/pins", s.unpin},
		{"POST", "/api/v1/hub/selections", s.selectImage},
		{"GET", "/api/v1/stagers", s.stagers},
		{"PUT", "/api/v1/stagers/{node}", s.report},
	}
}

// list answers the cluster's staging list, holding only images the caller
// (a stager's robot token, with auth on) may pull, with an ETag of its
// content, so that a stager polling with If-None-Match gets 304 until it
// changes.
func (s *Stage) list(w http.ResponseWriter, r *http.Request) error {
	cluster := r.URL.Query().Get("cluster")
	if cluster == "" {
		cluster = "default"
	}
	list, err := s.Planner.List(r.Context(), cluster, viewerOf(r).mayPull)
	if err != nil {
		return err
	}
	body, err := json.Marshal(list)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(append(body, '\n'))
	return err
}

func (s *Stage) pins(w http.ResponseWriter, _ *http.Request) error {
	return respond(w, s.Planner.Pins())
}

func (s *Stage) pin(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, true); err != nil {
		return err
	}
	var pin api.StagePin
	if err := readJSONBody(r, &pin); err != nil {
		return err
	}
	if err := s.Planner.Pin(pin); err != nil {
		return stageError(err)
	}
	return respond(w, s.Planner.Pins())
}

func (s *Stage) unpin(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, true); err != nil {
		return err
	}
	var pin api.StagePin
	if err := readJSONBody(r, &pin); err != nil {
		return err
	}
	ok, err := s.Planner.Unpin(pin)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(api.CodeNotFound, "%s is not pinned", pin.Ref)
	}
	return respond(w, s.Planner.Pins())
}

// selectImage records a hub user's pick: {"ref": "host/repo@digest"}.
func (s *Stage) selectImage(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Ref string `json:"ref"`
	}
	if err := readJSONBody(r, &body); err != nil {
		return err
	}
	im, err := s.Planner.Select(body.Ref, viewerOf(r).mayPull)
	if err != nil {
		return stageError(err)
	}
	return respond(w, im)
}

// stagers lists every node's inventory, with the images the caller may
// pull.
func (s *Stage) stagers(w http.ResponseWriter, r *http.Request) error {
	return respond(w, api.StagerList{Stagers: s.Planner.Stagers(viewerOf(r).mayPull)})
}

// nodePattern is a host name: what a stager calls itself.
var nodePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$`)

func (s *Stage) report(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, false); err != nil {
		return err
	}
	node := r.PathValue("node")
	if !nodePattern.MatchString(node) {
		return errorf(api.CodeInvalidRequest, "node name %q is not a host name", node)
	}
	var inv api.StagerInventory
	if err := readJSONBody(r, &inv); err != nil {
		return err
	}
	if inv.Node != node {
		return errorf(api.CodeInvalidRequest, "inventory of node %q sent to /api/v1/stagers/%s", inv.Node, node)
	}
	if err := s.Planner.Report(inv); err != nil {
		return err
	}
	return respond(w, inv)
}

// maxBodyBytes bounds a request body: an inventory of thousands of images
// fits.
const maxBodyBytes = 8 << 20

// readJSONBody reads a JSON body strictly: unknown fields and trailing data
// are the caller's mistakes.
func readJSONBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(api.CodeInvalidRequest, "body: %v", err)
	}
	if dec.More() {
		return errorf(api.CodeInvalidRequest, "body: more than one JSON value")
	}
	return nil
}

// stageError maps the planner's refusals to API errors.
func stageError(err error) error {
	switch {
	case errors.Is(err, stage.ErrBadRef):
		return errorf(api.CodeInvalidRequest, "%v", err)
	case errors.Is(err, stage.ErrUnknownImage):
		return errorf(api.CodeNotFound, "%v", err)
	}
	return err
}
