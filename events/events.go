// Package events is the seam between the registry and everything that reacts
// to what is pushed: an in-process event for every manifest put or delete and
// every tag change, delivered to Listeners (the referrers index, the catalog).
package events

import (
	"context"
	"log/slog"

	"github.com/opencontainers/go-digest"
)

// Action says what happened.
type Action string

const (
	ManifestPut    Action = "manifest.put"
	ManifestDelete Action = "manifest.delete"
	TagPut         Action = "tag.put"
	TagDelete      Action = "tag.delete"
)

// Event describes one change to a repository. Payload is set for
// ManifestPut; Tag for tag actions (and for ManifestPut by tag).
type Event struct {
	Action     Action
	Repository string
	Digest     digest.Digest
	MediaType  string
	Tag        string
	Payload    []byte
}

// Listener receives events after the change is in storage. It must not
// block for long: the client's request waits for it.
type Listener interface {
	Notify(ctx context.Context, ev Event)
}

// ListenerFunc adapts a function to Listener.
type ListenerFunc func(ctx context.Context, ev Event)

// Notify calls f.
func (f ListenerFunc) Notify(ctx context.Context, ev Event) { f(ctx, ev) }

// Fanout delivers each event to every listener in order.
type Fanout []Listener

// Notify delivers ev to every listener.
func (f Fanout) Notify(ctx context.Context, ev Event) {
	for _, l := range f {
		l.Notify(ctx, ev)
	}
}

// Logger logs every event at debug level.
func Logger(log *slog.Logger) Listener {
	return ListenerFunc(func(ctx context.Context, ev Event) {
		log.DebugContext(ctx, "registry event", "action", ev.Action, "repository", ev.Repository,
			"digest", ev.Digest, "tag", ev.Tag, "media_type", ev.MediaType)
	})
}
