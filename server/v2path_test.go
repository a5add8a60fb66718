package server

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/distribution/distribution/v3/registry/api/errcode"
	v2 "github.com/distribution/distribution/v3/registry/api/v2"
	"github.com/gorilla/mux"
	"github.com/opencontainers/go-digest"
)

func TestParseV2Path(t *testing.T) {
	d256 := digest.FromString("x").String()
	d512 := digest.SHA512.FromString("x").String()
	cases := []struct {
		path string
		want v2Path
		// route is the name distribution's router gives the path, "" when
		// it has no route for it (Oyster's own API, or a refused path).
		route string
	}{
		{"/v2/", v2Path{Kind: v2Base}, v2.RouteNameBase},
		{"/v2/_catalog", v2Path{Kind: v2Catalog}, v2.RouteNameCatalog},
		{"/v2/lab/tags/list", v2Path{Kind: v2Tags, Repo: "lab"}, v2.RouteNameTags},
		{"/v2/lab/team/app/manifests/v1.0", v2Path{Kind: v2Manifest, Repo: "lab/team/app", Reference: "v1.0"}, v2.RouteNameManifest},
		{"/v2/lab/app/manifests/" + d256, v2Path{Kind: v2Manifest, Repo: "lab/app", Reference: d256}, v2.RouteNameManifest},
		{"/v2/lab/app/manifests/" + d512, v2Path{Kind: v2Manifest, Repo: "lab/app", Reference: d512}, v2.RouteNameManifest},
		{"/v2/lab/app/blobs/" + d512, v2Path{Kind: v2Blob, Repo: "lab/app", Reference: d512}, v2.RouteNameBlob},
		{"/v2/lab/app/blobs/uploads/", v2Path{Kind: v2Upload, Repo: "lab/app"}, v2.RouteNameBlobUpload},
		{"/v2/lab/app/blobs/uploads", v2Path{Kind: v2Upload, Repo: "lab/app"}, v2.RouteNameBlobUpload},
		{"/v2/lab/app/blobs/uploads/0f5c-4b1e_x=", v2Path{Kind: v2Upload, Repo: "lab/app", Reference: "0f5c-4b1e_x="}, v2.RouteNameBlobUploadChunk},
		{"/v2/lab/app/referrers/" + d256, v2Path{Kind: v2Referrers, Repo: "lab/app", Reference: d256}, ""},
		// Names may hold the words of the routes.
		{"/v2/a/manifests/b/manifests/latest", v2Path{Kind: v2Manifest, Repo: "a/manifests/b", Reference: "latest"}, v2.RouteNameManifest},
		{"/v2/a/blobs/blobs/" + d256, v2Path{Kind: v2Blob, Repo: "a/blobs", Reference: d256}, v2.RouteNameBlob},
		{"/v2/a/blobs/uploads/blobs/uploads/", v2Path{Kind: v2Upload, Repo: "a/blobs/uploads"}, v2.RouteNameBlobUpload},
		{"/v2/tags/tags/list", v2Path{Kind: v2Tags, Repo: "tags"}, v2.RouteNameTags},
		// %-encoded segments are read decoded, as distribution's router reads them.
		{"/v2/lab%2Fapp/manifests/latest", v2Path{Kind: v2Manifest, Repo: "lab/app", Reference: "latest"}, v2.RouteNameManifest},
		{"/v2/lab/%61pp/tags/list", v2Path{Kind: v2Tags, Repo: "lab/app"}, v2.RouteNameTags},
		// Shapes distribution has no route for reach it, which answers 404.
		{"/v2/lab/app/manifests/", v2Path{Kind: v2Unknown}, ""},
		{"/v2/lab/app", v2Path{Kind: v2Unknown}, ""},
		{"/v2/tags/list", v2Path{Kind: v2Unknown}, ""},
		// A reference that is neither tag nor digest is a manifest path
		// (the guard answers TAG_INVALID); distribution has no route.
		{"/v2/lab/app/manifests/-bad", v2Path{Kind: v2Manifest, Repo: "lab/app", Reference: "-bad"}, ""},
		{"/v2", v2Path{Kind: notV2}, v2.RouteNameBase}, // Go's mux redirects it to /v2/ first
		{"/api/v1/search", v2Path{Kind: notV2}, ""},
	}
	router := v2.Router()
	for _, c := range cases {
		u, err := url.Parse(c.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseV2Path(u)
		if err != nil || got != c.want {
			t.Errorf("%s: got %+v, %v; want %+v", c.path, got, err, c.want)
		}
		var match mux.RouteMatch
		route := ""
		if router.Match(&http.Request{Method: http.MethodGet, URL: u}, &match) && match.Route != nil {
			route = match.Route.GetName()
		}
		if route != c.route {
			t.Errorf("%s: distribution's router says %q, the table %q", c.path, route, c.route)
		}
	}
}

func TestParseV2PathRefusesNames(t *testing.T) {
	cases := []struct {
		path string
		kind v2Kind // still set, for metrics
	}{
		{"/v2/../etc/passwd/manifests/latest", v2Manifest},
		{"/v2/lab/../../etc/tags/list", v2Tags},
		{"/v2/lab/%2e%2e/%2e%2e/x/tags/list", v2Tags},
		{"/v2/lab/..%2f..%2fetc/manifests/latest", v2Manifest},
		{"/v2/a/./b/blobs/uploads/", v2Upload},
		{"/v2/a/manifests/..", v2Manifest},
		{"/static/../etc/passwd", notV2},
		{"/v2/lab/App/manifests/latest", v2Manifest},
		{"/v2//manifests/latest", v2Manifest},
		{"/v2/a//b/tags/list", v2Tags},
		{"/v2/-a/blobs/uploads/", v2Upload},
		{"/v2/" + strings.Repeat("a", 256) + "/tags/list", v2Tags},
	}
	for _, c := range cases {
		u, err := url.Parse(c.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseV2Path(u)
		var e errcode.Error
		if !errors.As(err, &e) || e.Code != v2.ErrorCodeNameInvalid || got.Kind != c.kind || got.Repo != "" {
			t.Errorf("%s: got %+v, %v; want kind %d and NAME_INVALID", c.path, got, err, c.kind)
		}
	}
}
