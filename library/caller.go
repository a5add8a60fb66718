package library

import (
	"context"
	"errors"
	"net/http"

	"github.com/oyster-registry/oyster/auth"
)

// callerKey carries the identity of the Library request a context belongs
// to; every in-process /v2/ call made for that request carries it too.
type callerKey struct{}

// withCaller records id as the caller in ctx.
func withCaller(ctx context.Context, id auth.Identity) context.Context {
	return context.WithValue(ctx, callerKey{}, id)
}

// CallerOf returns who sent the Library request ctx belongs to: the
// registry authorizes the Library's in-process /v2/ calls as that caller
// (anonymous when none was recorded).
func CallerOf(ctx context.Context) auth.Identity {
	id, _ := ctx.Value(callerKey{}).(auth.Identity)
	return id
}

// identify records the request's caller in its context; bad credentials
// are refused before any endpoint runs. With auth off every caller is
// anonymous and may do anything.
func (l *Library) identify(r *http.Request) (*http.Request, error) {
	if l.auth == nil {
		return r, nil
	}
	id, err := l.auth.Identify(r)
	if errors.Is(err, auth.ErrBadCredentials) {
		return nil, &apiError{http.StatusUnauthorized, "the token or credentials sent are not valid"}
	}
	if err != nil {
		return nil, err
	}
	return r.WithContext(withCaller(r.Context(), id)), nil
}

// may reports whether the request's caller may do action on repo; with
// auth off, anyone may.
func (l *Library) may(ctx context.Context, action, repo string) bool {
	return l.auth == nil || l.policy.Allowed(CallerOf(ctx), auth.Access{Type: "repository", Name: repo, Action: action})
}

// mayPull is what every Library listing filters by.
func (l *Library) mayPull(ctx context.Context, repo string) bool {
	return l.may(ctx, auth.ActionPull, repo)
}

// visible is the caller's repository predicate for searches, which
// apply it before paging; nil with auth off.
func (l *Library) visible(ctx context.Context) func(repo string) bool {
	if l.auth == nil {
		return nil
	}
	return func(repo string) bool { return l.mayPull(ctx, repo) }
}

// refusal is the error for a caller who may not do what was asked:
// anonymous callers are told to log in.
func refusal(ctx context.Context, what string) error {
	if CallerOf(ctx).Name == "" {
		return &apiError{http.StatusUnauthorized, what + ": log in first (apptainer remote login)"}
	}
	return &apiError{http.StatusForbidden, what + ": " + CallerOf(ctx).Name + " may not"}
}
