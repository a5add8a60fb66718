package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/distribution/distribution/v3/registry/api/errcode"
)

// statusError is an OCI error answered with a status other than the one its
// code implies (a manifest over the size limit is MANIFEST_INVALID, 413).
type statusError struct {
	status int
	err    errcode.Error
}

func (e statusError) Error() string { return e.err.Error() }

func withStatus(status int, err errcode.Error) error { return statusError{status: status, err: err} }

// writeOCIError answers err in the OCI error format
// ({"errors":[{"code","message","detail"}]}); it is the one writer of error
// bodies on /v2/ besides distribution's own. The status is the one err's
// code implies unless withStatus set another; an error without a code is
// UNKNOWN, 500.
func writeOCIError(w http.ResponseWriter, err error) {
	var (
		se   statusError
		e    errcode.Error
		code errcode.ErrorCode
	)
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &se):
		status, e = se.status, se.err
	case errors.As(err, &e):
		status = e.Code.Descriptor().HTTPStatusCode
	case errors.As(err, &code):
		status, e = code.Descriptor().HTTPStatusCode, code.WithDetail(nil)
	default:
		e = errcode.ErrorCodeUnknown.WithDetail(err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errcode.Errors{e})
}
