package stager

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/stager/format"
)

// Serve runs the daemon until ctx ends: /metrics and /healthz on
// cfg.Addr, and every poll interval a Sync.
func (s *Stager) Serve(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	s.log.Info("stager serving", "addr", ln.Addr().String(), "registry", s.client.Host(), "cluster", s.cfg.Cluster, "node", s.cfg.Node)
	var etag string
	for {
		etag = s.Sync(ctx, etag)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.cfg.PollInterval):
		}
	}
}

// Sync is one pass of the daemon: fetch the staging list unless it is
// unchanged since etag, stage what it lists and the configured pins in
// every configured format, collect garbage, report the inventory. It
// returns the ETag to send next time; empty after a failure, so the next
// pass tries everything again.
func (s *Stager) Sync(ctx context.Context, etag string) string {
	var list api.StageList
	path := "/api/v1/stage?cluster=" + url.QueryEscape(s.cfg.Cluster)
	newETag, unchanged, err := s.client.GetJSON(ctx, path, etag, &list)
	switch {
	case err != nil:
		s.metrics.polls.WithLabelValues("error").Inc()
		s.log.Warn("staging list", "err", err)
		newETag = ""
	case unchanged:
		s.metrics.polls.WithLabelValues("unchanged").Inc()
	default:
		s.metrics.polls.WithLabelValues("changed").Inc()
		if !s.stageList(ctx, list) {
			newETag = ""
		}
	}
	if rep, err := s.GC(ctx); err != nil {
		s.log.Warn("gc", "err", err)
	} else if len(rep.Evicted) > 0 {
		s.log.Info("evicted", "images", len(rep.Evicted), "freed_bytes", rep.FreedBytes)
	}
	if err := s.Report(ctx); err != nil {
		s.log.Warn("inventory", "err", err)
	}
	return newETag
}

// stageList stages the list's images and the configured pins; ok is false
// if any failed.
func (s *Stager) stageList(ctx context.Context, list api.StageList) (ok bool) {
	var pins []digest.Digest
	for _, im := range list.Images {
		if im.Pinned {
			pins = append(pins, im.Digest)
		}
	}
	if err := s.setPinned(pins); err != nil {
		s.log.Warn("recording pins", "err", err)
	}
	refs := make([]string, 0, len(list.Images)+len(s.cfg.Pins))
	for _, im := range list.Images {
		ref := im.Repository
		if im.Tag != "" {
			ref += ":" + im.Tag
		}
		refs = append(refs, ref+"@"+im.Digest.String())
	}
	ok = true
	for _, ref := range append(refs, s.cfg.Pins...) {
		for _, name := range s.cfg.Formats {
			f, _ := format.Parse(name) // checked by config.Validate
			if _, err := s.Stage(ctx, ref, f); err != nil {
				if errors.Is(err, context.Canceled) {
					return false
				}
				s.log.Warn("staging", "ref", ref, "format", f, "err", err)
				ok = false
			} else {
				s.log.Info("staged", "ref", ref, "format", f)
			}
		}
	}
	return ok
}

// Report sends the inventory to the registry.
func (s *Stager) Report(ctx context.Context) error {
	st, err := s.Status()
	if err != nil {
		return err
	}
	inv := api.StagerInventory{Node: s.cfg.Node, Cluster: s.cfg.Cluster, UsageBytes: st.UsageBytes, QuotaBytes: st.QuotaBytes,
		Images: make([]api.StagedImage, 0, len(st.Images))}
	for _, e := range st.Images {
		formats := make([]string, len(e.Formats))
		for i, f := range e.Formats {
			formats[i] = string(f)
		}
		inv.Images = append(inv.Images, api.StagedImage{Repository: e.Repo, Refs: e.Refs, Digest: e.Digest, Formats: formats,
			Bytes: e.Bytes, LastUsed: e.LastUsed, Pinned: e.Pinned})
	}
	return s.client.PutJSON(ctx, "/api/v1/stagers/"+url.PathEscape(s.cfg.Node), inv)
}
