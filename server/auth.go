package server

import (
	"fmt"
	"net/http"

	dconfig "github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/api/errcode"
	dauth "github.com/distribution/distribution/v3/registry/auth"

	"github.com/oyster-registry/oyster/auth"
	"github.com/oyster-registry/oyster/config"
	"github.com/oyster-registry/oyster/library"
)

// accessControllerName is how Oyster's token checks are registered with
// distribution; the service travels in the options, as the middleware's
// hooks do.
const (
	accessControllerName = "oyster"
	authServiceOption    = "service"
)

func init() {
	if err := dauth.Register(accessControllerName, newAccessController); err != nil {
		panic(err)
	}
}

func newAccessController(options map[string]any) (dauth.AccessController, error) {
	svc, ok := options[authServiceOption].(*auth.Service)
	if !ok {
		return nil, fmt.Errorf("%s access controller: missing %q option", accessControllerName, authServiceOption)
	}
	return auth.AccessController{Service: svc}, nil
}

// openAuth starts the token service when auth is on (auth.htpasswd.path
// or auth.oidc.issuer set); off, it returns nil and nothing is checked.
func (s *Server) openAuth() (*auth.Service, error) {
	a := s.cfg.Auth
	if !a.Enabled() {
		return nil, nil
	}
	return auth.New(auth.Options{
		DataDir: s.cfg.Data, HtpasswdPath: a.Htpasswd.Path, OIDC: oidcOptions(a.OIDC), Admins: a.Admins, Service: a.Service,
		ExternalURL: s.cfg.ExternalURL, TokenTTL: a.TokenTTL, KeyRotation: a.KeyRotation,
		Policy:          a.Policy(),
		MaxFailedLogins: a.MaxFailedLogins, FailedLoginWindow: a.FailedLoginWindow, Log: s.log,
		Sessions: a.SessionOptions(), Robots: a.RobotLimits(),
	})
}

// oidcOptions are the OIDC settings the token service takes; nil when
// auth.oidc.issuer is not set.
func oidcOptions(o config.OIDC) *auth.OIDCOptions {
	if o.Issuer == "" {
		return nil
	}
	return &auth.OIDCOptions{
		Login:  auth.OIDCLoginOptions{ClientID: o.ClientID, ClientSecret: o.ClientSecret},
		Issuer: o.Issuer, Audience: o.Audience, Scope: o.Scope,
		UsernameClaim: o.Claims.Username, GroupsClaim: o.Claims.Groups, UsernameDomain: o.UsernameDomain,
		GroupsURL: o.GroupsURL, GroupsField: o.GroupsField,
		IntrospectionURL: o.Introspection.URL, ClientID: o.Introspection.ClientID, ClientSecret: o.Introspection.ClientSecret,
		CacheTTL: o.CacheTTL, CacheSize: o.CacheSize, DiscoveryTimeout: o.DiscoveryTimeout,
		Admins: o.Admins,
	}
}

// authConfig plugs the service into distribution's App.
func authConfig(svc *auth.Service) dconfig.Auth {
	return dconfig.Auth{accessControllerName: dconfig.Parameters{authServiceOption: svc}}
}

// authorizeV2 checks every /v2/ request before the guards read a body or
// any handler sees it, so the routes distribution never serves
// (referrers, sha512, tag parameters, the Library's in-process calls) are
// guarded like the rest; the grant goes to distribution's access
// controller in the request's context. Paths the guards refuse anyway
// pass to them.
func (s *Server) authorizeV2(next http.Handler) http.Handler {
	return s.checkV2(next, func(w http.ResponseWriter, r *http.Request, req *v2Request) {
		if req.path.Kind == v2Catalog && r.Method == http.MethodGet {
			s.serveCatalog(w, r) // lists what the caller may pull
			return
		}
		grant, err := s.auth.Authorize(r, v2Access(r, req.path))
		if err != nil {
			if c, ok := err.(*auth.Challenge); ok {
				c.SetHeaders(r, w)
			}
			writeOCIError(w, errcode.ErrorCodeUnauthorized.WithDetail(nil))
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithGrant(r.Context(), grant)))
	})
}

// authorizeLibraryCall checks the Library API's in-process /v2/ calls as
// the Library request's caller (library.CallerOf), who proved who they
// are to the Library (auth.Service.Identify) rather than with a registry
// token. The repository list is the exception: the Library reads all of
// it and shows only what the caller may pull. policy is the auth
// service's.
func (s *Server) authorizeLibraryCall(policy auth.Policy, next http.Handler) http.Handler {
	return s.checkV2(next, func(w http.ResponseWriter, r *http.Request, req *v2Request) {
		id := library.CallerOf(r.Context())
		access := v2Access(r, req.path)
		for _, a := range access {
			if req.path.Kind != v2Catalog && !policy.Allowed(id, a) {
				writeOCIError(w, errcode.ErrorCodeDenied.WithMessage(fmt.Sprintf("%q may not %s %s", id.Name, a.Action, a.Name)))
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(auth.WithGrant(r.Context(), &auth.Grant{Subject: id.Name, Access: access})))
	})
}

// checkV2 runs check on the /v2/ requests of a registry with auth on;
// with auth off, and for paths the guards refuse anyway, next gets the
// request unchecked. check answers the request or passes it to next.
func (s *Server) checkV2(next http.Handler, check func(w http.ResponseWriter, r *http.Request, req *v2Request)) http.Handler {
	if s.auth == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := requestOf(r.Context())
		if req.path.Kind == notV2 || req.pathErr != nil {
			next.ServeHTTP(w, r)
			return
		}
		check(w, r, req)
	})
}

// catalogAccess is the scope of /v2/_catalog.
var catalogAccess = []auth.Access{{Type: "registry", Name: "catalog", Action: "*"}}

// v2Access is what a request needs, named as distribution names it.
func v2Access(r *http.Request, p v2Path) []auth.Access {
	switch {
	case p.Kind == v2Catalog:
		return catalogAccess
	case !p.Kind.hasRepo():
		return nil
	}
	access := methodAccess(r.Method, p.Repo)
	if from := r.URL.Query().Get("from"); p.Kind == v2Upload && from != "" {
		access = append(access, methodAccess(http.MethodGet, from)...)
	}
	return access
}

func methodAccess(method, repo string) []auth.Access {
	on := func(action string) auth.Access { return auth.Access{Type: "repository", Name: repo, Action: action} }
	switch method {
	case http.MethodGet, http.MethodHead:
		return []auth.Access{on(auth.ActionPull)}
	case http.MethodDelete:
		return []auth.Access{on(auth.ActionDelete)}
	default:
		return []auth.Access{on(auth.ActionPull), on(auth.ActionPush)}
	}
}
