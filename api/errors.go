// Package api holds the JSON shapes of Oyster's catalog API (/api/v1/,
// the hub endpoints and docker search): the registry's web package
// marshals them and Go clients (the stager, tests) decode them.
// It is types only and imports nothing of Oyster's, so that a client can
// use it without pulling in the catalog or the server.
package api

import (
	"net/http"
	"sort"
)

// ErrorCode names one kind of API error, for clients to branch on. Each
// code is declared once, below, with the HTTP status it is answered with
// (distribution's errcode.Register habit).
type ErrorCode string

var errorStatus = map[ErrorCode]int{}

func register(code string, status int) ErrorCode {
	c := ErrorCode(code)
	if _, dup := errorStatus[c]; dup {
		panic("api: error code " + code + " declared twice")
	}
	errorStatus[c] = status
	return c
}

// The error codes. INVALID_* are the caller's to fix; MISCONFIGURED and
// INTERNAL are the registry's, and their details are in its log.
var (
	CodeNotFound         = register("NOT_FOUND", http.StatusNotFound)                  // no such repository, image or endpoint
	CodeMethodNotAllowed = register("METHOD_NOT_ALLOWED", http.StatusMethodNotAllowed) // the endpoint does not take this method (Allow says which)
	CodeInvalidQuery     = register("INVALID_QUERY", http.StatusBadRequest)            // the search query, sort or facets
	CodeInvalidPaging    = register("INVALID_PAGING", http.StatusBadRequest)           // page, per_page or n
	CodeInvalidOptions   = register("INVALID_OPTIONS", http.StatusBadRequest)          // the hub's options parameter
	CodeInvalidHost      = register("INVALID_HOST", http.StatusBadRequest)             // the request's Host is not host[:port]
	CodeUnauthorized     = register("UNAUTHORIZED", http.StatusUnauthorized)           // a webhook's signature or token is missing or wrong
	CodeForbidden        = register("FORBIDDEN", http.StatusForbidden)                 // the caller may not do this (grant more than they have, manage tokens as a robot)
	CodeInvalidRequest   = register("INVALID_REQUEST", http.StatusBadRequest)          // a webhook payload or build request that cannot be used
	CodeConflict         = register("CONFLICT", http.StatusConflict)                   // the build is already finished
	CodeMisconfigured    = register("MISCONFIGURED", http.StatusInternalServerError)   // a configuration value is unusable
	CodeInternal         = register("INTERNAL", http.StatusInternalServerError)        // the catalog could not answer
	CodeUnavailable      = register("UNAVAILABLE", http.StatusServiceUnavailable)      // the identity provider could not check the credentials; try again
)

// HTTPStatus is the status c is answered with; 500 for an undeclared code.
func (c ErrorCode) HTTPStatus() int {
	if s, ok := errorStatus[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorCodes lists every declared code, sorted.
func ErrorCodes() []ErrorCode {
	out := make([]ErrorCode, 0, len(errorStatus))
	for c := range errorStatus {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ErrorBody is the body of every API error: {"error":{"code","message"}}.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Error is one API error. It is a Go error too, so that a client can
// return what it decoded.
type Error struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }
