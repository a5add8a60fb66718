package auth

import (
	"errors"
	"net/http"

	dauth "github.com/distribution/distribution/v3/registry/auth"
)

// AccessController is the Service as distribution's access controller.
// Oyster's /v2/ front has usually authorized the request already (it
// serves routes distribution never sees); then the grant in the context
// is trusted for the accesses it was checked for, and anything else is
// checked in full.
type AccessController struct{ Service *Service }

// Authorized implements distribution's auth.AccessController.
func (c AccessController) Authorized(r *http.Request, access ...dauth.Access) (*dauth.Grant, error) {
	want := make([]Access, len(access))
	for i, a := range access {
		want[i] = Access{Type: a.Type, Name: a.Name, Action: a.Action}
	}
	g := GrantOf(r.Context())
	if g == nil || !g.covers(want) {
		var err error
		if g, err = c.Service.Authorize(r, want); err != nil {
			return nil, err
		}
	}
	if g == nil {
		return nil, errors.New("auth: no grant")
	}
	resources := make([]dauth.Resource, len(access))
	for i, a := range access {
		resources[i] = a.Resource
	}
	return &dauth.Grant{User: dauth.UserInfo{Name: g.Subject}, Resources: resources}, nil
}
