package web

import (
	"context"
	"io"
	"net/http"

	"github.com/oyster-registry/oyster/api"
)

// Builds is what the web surface needs of the build queue (gitsync).
type Builds interface {
	Builds() ([]api.Build, error)
	Build(id string) (api.Build, error)
	FollowLog(ctx context.Context, id string, follow bool, w func([]byte) error) error
	Rebuild(ctx context.Context, source, recipe string) ([]api.Build, error)
	Cancel(id string) (api.Build, error)
	Webhook(ctx context.Context, provider, source string, h http.Header, body []byte) (api.WebhookResult, error)
	Recipe(source, commit, path string) (api.RecipeSource, error)
}

// visibleBuilds lists the builds into repositories the caller may pull.
func visibleBuilds(b Builds, v viewer) ([]api.Build, error) {
	list, err := b.Builds()
	if err != nil || v.mayPull == nil {
		return list, err
	}
	out := make([]api.Build, 0, len(list))
	for _, build := range list {
		if v.sees(build.Repository) {
			out = append(out, build)
		}
	}
	return out, nil
}

// visibleBuild is build id, or NOT_FOUND, worded as for a build that does
// not exist, when the caller may not pull the repository it builds.
func visibleBuild(b Builds, v viewer, id string) (api.Build, error) {
	build, err := b.Build(id)
	if err == nil && !v.sees(build.Repository) {
		return api.Build{}, errorf(api.CodeNotFound, "no build %q", id)
	}
	return build, err
}

// mayOperate refuses a caller who may not start or cancel builds: with
// auth on, only site admins may (a build pushes with the registry's own
// rights, whatever the caller's).
func mayOperate(v viewer) error {
	if v.mayPull != nil && !v.operator {
		return errorf(api.CodeForbidden, "only a site admin may start or cancel builds; a git push to the source starts them through its webhook")
	}
	return nil
}

// maxWebhookBody bounds a webhook delivery; GitHub's are at most 25 MB.
const maxWebhookBody = 25 << 20

// buildRoutes are the endpoints of the build queue. They are apart from
// routes() because some of them change things (POST).
func buildRoutes(b Builds) []route {
	return []route{
		{"GET", "/api/v1/builds", func(w http.ResponseWriter, r *http.Request) error {
			list, err := visibleBuilds(b, viewerOf(r))
			if err != nil {
				return err
			}
			return respond(w, api.Builds{Builds: list})
		}},
		{"GET", "/api/v1/builds/{id}", func(w http.ResponseWriter, r *http.Request) error {
			build, err := visibleBuild(b, viewerOf(r), r.PathValue("id"))
			if err != nil {
				return err
			}
			return respond(w, build)
		}},
		{"GET", "/api/v1/builds/{id}/log", func(w http.ResponseWriter, r *http.Request) error { return serveLog(w, r, b) }},
		{"POST", "/api/v1/builds/{id}/cancel", func(w http.ResponseWriter, r *http.Request) error {
			if _, err := visibleBuild(b, viewerOf(r), r.PathValue("id")); err != nil {
				return err
			}
			if err := mayOperate(viewerOf(r)); err != nil {
				return err
			}
			build, err := b.Cancel(r.PathValue("id"))
			if err != nil {
				return err
			}
			return respond(w, build)
		}},
		{"POST", "/api/v1/sources/{name}/rebuild", func(w http.ResponseWriter, r *http.Request) error {
			if err := mayOperate(viewerOf(r)); err != nil {
				return err
			}
			list, err := b.Rebuild(r.Context(), r.PathValue("name"), r.URL.Query().Get("recipe"))
			if err != nil {
				return err
			}
			w.WriteHeader(http.StatusAccepted)
			return respond(w, api.Builds{Builds: list})
		}},
		{"GET", "/api/v1/sources/{name}/recipe", func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			rs, err := b.Recipe(r.PathValue("name"), q.Get("commit"), q.Get("path"))
			if err != nil {
				return err
			}
			return respond(w, rs)
		}},
		{"POST", "/api/v1/webhooks/{provider}", func(w http.ResponseWriter, r *http.Request) error {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
			if err != nil {
				return errorf(api.CodeInvalidRequest, "reading the delivery: %v", err)
			}
			res, err := b.Webhook(r.Context(), r.PathValue("provider"), r.URL.Query().Get("source"), r.Header, body)
			if err != nil {
				return err
			}
			return respond(w, res)
		}},
	}
}

// serveLog answers a build's log: as server-sent events that follow it
// until the build ends when the client accepts text/event-stream, else
// as plain text of what there is (following it with ?follow=true). Once
// the body has started, an error can only be the client going away, and
// there is no clean way to tell it anything.
func serveLog(w http.ResponseWriter, r *http.Request, b Builds) error {
	id := r.PathValue("id")
	if _, err := visibleBuild(b, viewerOf(r), id); err != nil {
		return err
	}
	if r.Header.Get("Accept") != "text/event-stream" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_ = b.FollowLog(r.Context(), id, r.URL.Query().Get("follow") == "true", func(p []byte) error {
			_, err := w.Write(p)
			return err
		})
		return nil
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	flusher, _ := w.(http.Flusher)
	err := b.FollowLog(r.Context(), id, true, func(p []byte) error {
		if _, err := w.Write(sseData(p)); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	})
	if err == nil {
		_, _ = io.WriteString(w, "event: end\ndata: \n\n")
	}
	return nil
}

// sseData frames p as one event, one data: field per line.
func sseData(p []byte) []byte {
	out := []byte("data: ")
	for _, c := range p {
		if c == '\n' {
			out = append(out, "\ndata: "...)
			continue
		}
		out = append(out, c)
	}
	return append(out, "\n\n"...)
}
