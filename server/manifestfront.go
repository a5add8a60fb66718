package server

import (
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/distribution/distribution/v3"
	"github.com/distribution/distribution/v3/manifest/manifestlist"
	"github.com/distribution/distribution/v3/manifest/ocischema"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// serveCachedManifest answers a manifest GET or HEAD from the manifest
// cache without entering distribution's App, whose routing, per-request
// context and logging cost more than the storage reads the cache saves
// (profile in docs/benchmarks.md). It runs after authorization, and only
// for answers it can give exactly as distribution's GetManifest would: the
// tag (if any) and the manifest are cached, no conditional request, and
// the client accepts the manifest's type by distribution's rule. It
// reports false, having written nothing, otherwise; distribution then
// answers, and fills the cache through the repository middleware.
func (s *Server) serveCachedManifest(w http.ResponseWriter, r *http.Request, p v2Path) bool {
	if s.manifests == nil || p.Kind != v2Manifest || (r.Method != http.MethodGet && r.Method != http.MethodHead) ||
		len(r.Header["If-None-Match"]) > 0 {
		return false
	}
	tag, dgst := "", p.digest()
	if dgst == "" {
		tag = p.Reference
		desc, ok := s.manifests.tag(p.Repo, tag)
		if !ok {
			return false
		}
		dgst = desc.Digest
	}
	m, ok := s.manifests.manifest(p.Repo, dgst)
	if !ok || !acceptable(m, tag != "", r.Header["Accept"]) {
		return false
	}
	ct, payload, err := m.Payload()
	if err != nil {
		return false
	}
	h := w.Header()
	h.Add("Docker-Distribution-API-Version", "registry/2.0")
	for name, values := range s.app.Config.HTTP.Headers {
		for _, v := range values {
			h.Add(name, v)
		}
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Length", fmt.Sprint(len(payload)))
	h.Set("Docker-Content-Digest", dgst.String())
	h.Set("Etag", fmt.Sprintf(`"%s"`, dgst))
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return true
	}
	_, _ = w.Write(payload)
	return true
}

// acceptable is distribution v3.1.2's GetManifest rule for serving m as it
// is: an OCI manifest or index only to clients that accept it, a docker
// manifest list by tag only to clients that accept it (distribution
// otherwise rewrites it, which is left to distribution), anything else to
// every client. Accept values are parsed as distribution parses them.
func acceptable(m distribution.Manifest, byTag bool, acceptHeaders []string) bool {
	accepts := func(want string) bool {
		for _, header := range acceptHeaders {
			for value := range strings.SplitSeq(header, ",") {
				if mt, _, err := mime.ParseMediaType(value); err == nil && mt == want {
					return true
				}
			}
		}
		return false
	}
	switch m := m.(type) {
	case *ocischema.DeserializedManifest:
		return accepts(v1.MediaTypeImageManifest)
	case *manifestlist.DeserializedManifestList:
		switch m.MediaType {
		case v1.MediaTypeImageIndex:
			return accepts(v1.MediaTypeImageIndex)
		case manifestlist.MediaTypeManifestList:
			return !byTag || accepts(manifestlist.MediaTypeManifestList)
		}
	}
	return true // docker image manifests go to every client, as distribution sends them
}
