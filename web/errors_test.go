package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/api"
)

// TestInternalErrorsAreLoggedNotTold: when the catalog fails, the client
// gets INTERNAL and a fixed message; what failed goes to the log only.
func TestInternalErrorsAreLoggedNotTold(t *testing.T) {
	s := newUISite(t, uiFixtures()...)
	if err := s.store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/repositories", "/api/v1/repositories/lab/sci", "/api/v1/images/lab/sci:1", "/api/v1/images/lab/sci:1/packages"} {
		s.log.Reset()
		var e api.ErrorBody
		getJSON(t, s, path, http.StatusInternalServerError, &e)
		if e.Error.Code != api.CodeInternal || strings.Contains(e.Error.Message, "database") {
			t.Errorf("%s: told %+v", path, e)
		}
		if logged := s.log.String(); !strings.Contains(logged, "level=ERROR") || !strings.Contains(logged, "database not open") || !strings.Contains(logged, path) {
			t.Errorf("%s: logged %q, want the error and the path", path, logged)
		}
	}
}

// TestClientErrorsAreNotLogged: a request the client got wrong is its
// business, not the operator's.
func TestClientErrorsAreNotLogged(t *testing.T) {
	s := newUISite(t, uiFixtures()...)
	var e api.ErrorBody
	getJSON(t, s, "/api/v1/search?q=pgk:x", http.StatusBadRequest, &e)
	getJSON(t, s, "/api/v1/images/no/such:1", http.StatusNotFound, &e)
	if s.log.Len() != 0 {
		t.Errorf("logged %q", s.log)
	}
}
