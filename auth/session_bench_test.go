package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkIdentifySession is what a logged-in browser's page view costs
// auth: one session lookup by cookie (sha256 of the id, a map read) in a
// full table of sessions.
func BenchmarkIdentifySession(b *testing.B) {
	f := newFixture(b, func(o *Options) { o.Sessions.Max = 10000 })
	var cookie *http.Cookie
	for range 10000 { // started directly: bcrypt would make this minutes
		w := httptest.NewRecorder()
		f.svc.startSession(w, httptest.NewRequest(http.MethodPost, "/login", nil), Identity{Name: "alice"}, "")
		cookie = w.Result().Cookies()[0]
	}
	r := withCookie(cookie)
	for b.Loop() {
		if id, _ := f.svc.Identify(r); id.Name != "alice" {
			b.Fatal("the session was not found")
		}
	}
}
