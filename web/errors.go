package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/catalog/search"
)

// handlerFunc is a JSON endpoint that returns its error instead of
// writing it; serveJSON answers the error. It must not have written
// anything when it returns one.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// errorf is an error the client is told as it is, with its code's status.
func errorf(code api.ErrorCode, format string, args ...any) *api.Error {
	return &api.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// serveJSON adapts h to net/http and answers its error in the API's shape.
func serveJSON(log *slog.Logger, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, log, err)
		}
	}
}

// writeError answers err as {"error":{"code","message"}}. Errors of the
// registry's own making (5xx) are logged; an error that is not an
// *api.Error is told to the client only as INTERNAL, because its text may
// name files, buckets or internals.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := apiError(err)
	status := e.Code.HTTPStatus()
	if status >= http.StatusInternalServerError {
		log.Error("catalog API", "method", r.Method, "path", r.URL.Path, "code", e.Code, "error", err)
	}
	body, _ := json.Marshal(api.ErrorBody{Error: *e}) // two strings: cannot fail
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// apiError is what the client is told of err.
func apiError(err error) *api.Error {
	var e *api.Error
	var qe *search.QueryError
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &qe): // a query the person can fix
		return errorf(api.CodeInvalidQuery, "%s", qe.Msg)
	}
	return errorf(api.CodeInternal, "the catalog could not answer; see the registry log")
}

// isNotFound says whether err is a NOT_FOUND error.
func isNotFound(err error) bool {
	var e *api.Error
	return errors.As(err, &e) && e.Code == api.CodeNotFound
}

// respond answers v as JSON with status 200. It marshals before writing,
// so that a value that cannot be marshalled still gets a clean error.
func respond(w http.ResponseWriter, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
	_, _ = w.Write([]byte{'\n'})
	return nil
}
