package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ListenAndServe serves s on cfg.Addr until ctx is cancelled, then lets
// in-flight requests finish within the shutdown timeout. ready, if not nil,
// receives the bound address once the listener is open.
func (s *Server) ListenAndServe(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.cfg.Addr, err)
	}
	if addr := s.cfg.Debug.PprofAddr; addr != "" {
		if err := s.servePprof(ctx, addr); err != nil {
			ln.Close()
			return err
		}
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	s.log.Info("oyster registry listening", "addr", ln.Addr().String(), "data", s.cfg.Data, "storage", s.cfg.Storage.Driver)
	if ready != nil {
		ready(ln.Addr().String())
	}
	s.bound = ln.Addr().String()
	s.Start(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
