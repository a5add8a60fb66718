package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/api"
)

// openAPIDoc is what the tests read of openapi.json.
type openAPIDocument struct {
	Paths map[string]map[string]struct {
		Parameters []struct {
			Name   string `json:"name"`
			In     string `json:"in"`
			Schema struct {
				Minimum *int `json:"minimum"`
				Maximum *int `json:"maximum"`
			} `json:"schema"`
		} `json:"parameters"`
		Responses map[string]any `json:"responses"`
	} `json:"paths"`
	Components struct {
		Schemas struct {
			Error struct {
				Properties struct {
					Error struct {
						Properties struct {
							Code struct {
								Description string          `json:"description"`
								Enum        []api.ErrorCode `json:"enum"`
							} `json:"code"`
						} `json:"properties"`
					} `json:"error"`
				} `json:"properties"`
			} `json:"Error"`
		} `json:"schemas"`
	} `json:"components"`
}

func fetchOpenAPI(t *testing.T, s *uiSite) openAPIDocument {
	t.Helper()
	var doc openAPIDocument
	getJSON(t, s, "/api/v1/openapi.json", http.StatusOK, &doc)
	return doc
}

// samplePath fills a documented path's wildcard with a fixture that exists.
func samplePath(path string) string {
	return strings.NewReplacer("{name}", "lab/sci", "{ref}", "lab/sci:1").Replace(path)
}

// TestOpenAPIDocumentsEveryRoute holds openapi.json to the routes the mux
// is built from, both ways, and requests every route through the site to
// show that it is served there and answers what the document says.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	s := newUISite(t, uiFixtures()...)
	doc := fetchOpenAPI(t, s)
	served := map[string]bool{}
	for _, rt := range routes(&API{}, &Hub{}) {
		method := strings.ToLower(rt.method)
		served[method+" "+rt.path] = true
		op, ok := doc.Paths[rt.path][method]
		if !ok {
			t.Errorf("openapi.json does not document %s %s", rt.method, rt.path)
			continue
		}
		if _, ok := op.Responses["200"]; !ok {
			t.Errorf("%s %s: no 200 response documented", rt.method, rt.path)
		}
		code, body, _ := s.get(t, samplePath(rt.path))
		if code != http.StatusOK {
			t.Errorf("GET %s: %d %s", samplePath(rt.path), code, body)
		}
	}
	for _, rt := range buildRoutes(nil) { // TestOpenAPIDocumentsBuildRoutes requests them
		served[strings.ToLower(rt.method)+" "+rt.path] = true
	}
	for _, rt := range tokenRoutes(nil) { // TestOpenAPIDocumentsTokenRoutes requests them
		served[strings.ToLower(rt.method)+" "+rt.path] = true
	}
	for _, rt := range (&Stage{}).routes() { // TestOpenAPIDocumentsStageRoutes requests them
		served[strings.ToLower(rt.method)+" "+rt.path] = true
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !served[method+" "+path] {
				t.Errorf("openapi.json documents %s %s, which no route serves", strings.ToUpper(method), path)
			}
		}
	}
}

// TestOpenAPIDocumentsEveryErrorCode: the Error schema lists every code
// with its status, and only those.
func TestOpenAPIDocumentsEveryErrorCode(t *testing.T) {
	code := fetchOpenAPI(t, newUISite(t)).Components.Schemas.Error.Properties.Error.Properties.Code
	if !slices.Equal(code.Enum, api.ErrorCodes()) {
		t.Errorf("Error.code enum %v, declared codes %v", code.Enum, api.ErrorCodes())
	}
	for _, c := range api.ErrorCodes() {
		if want := fmt.Sprintf("%s %d", c, c.HTTPStatus()); !strings.Contains(code.Description, want) {
			t.Errorf("Error.code description does not say %q", want)
		}
	}
}

func TestAPIMethods(t *testing.T) {
	s := newUISite(t, uiFixtures()...)
	for target, want := range map[string]int{
		"POST /api/v1/search":                      http.StatusMethodNotAllowed,
		"DELETE /api/v1/repositories/lab/sci":      http.StatusMethodNotAllowed,
		"PUT /api/v1/images/lab/sci:1/packages":    http.StatusMethodNotAllowed,
		"POST /api/v1/hub/profiles":                http.StatusMethodNotAllowed,
		"POST /api/v1/nothing":                     http.StatusNotFound,
		"GET /api/v1/nothing":                      http.StatusNotFound,
		"GET /api/v1/images/":                      http.StatusNotFound,
		"GET /api/v1/images/lab/sci:1/packages/x":  http.StatusNotFound,
		"HEAD /api/v1/images/lab/sci:1/packages":   http.StatusOK,
		"GET /api/v1/repositories/lab/sci/":        http.StatusNotFound,
		"GET /api/v1/images/lab/packages/packages": http.StatusNotFound,
	} {
		method, path, _ := strings.Cut(target, " ")
		req := httptest.NewRequest(method, path, nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != want || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s, want %d in JSON", target, w.Code, w.Body, want)
		}
		if allow := w.Header().Get("Allow"); (want == http.StatusMethodNotAllowed) != (allow == "GET, HEAD") {
			t.Errorf("%s: Allow %q", target, allow)
		}
	}
}

// TestRoutesBySuffix: routes sharing a wildcard take the longest suffix
// that leaves the wildcard a value.
func TestRoutesBySuffix(t *testing.T) {
	got := map[string]string{}
	record := func(name string) handlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			got[r.URL.Path] = name + " " + r.PathValue("ref")
			return nil
		}
	}
	mux := http.NewServeMux()
	registerRoutes(mux, nil, []route{
		{"GET", "/x/{ref}", record("plain")},
		{"GET", "/x/{ref}/packages", record("packages")},
	})
	for path, want := range map[string]string{
		"/x/a/b:1":                   "plain a/b:1",
		"/x/a/b:1/packages":          "packages a/b:1",
		"/x/packages":                "plain packages",
		"/x/a/packages/packages":     "packages a/packages",
		"/x/a/b@sha256:00/packages/": "plain a/b@sha256:00/packages/",
	} {
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
		if got[path] != want {
			t.Errorf("%s: served by %q, want %q", path, got[path], want)
		}
	}
}
