package server

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/oyster-registry/oyster/gitsync"
	"github.com/oyster-registry/oyster/recipes"
)

// openGitSync opens the build queue when sources are configured.
func openGitSync(s *Server) (*gitsync.Service, error) {
	if len(s.cfg.Sources) == 0 {
		return nil, nil
	}
	dir := filepath.Join(s.cfg.Data, "gitsync")
	var sources []gitsync.Source
	for _, src := range s.cfg.Sources {
		sources = append(sources, gitsync.Source{
			Name: src.Name, URL: src.URL, Branch: src.Branch, WebhookSecret: src.WebhookSecret,
			PollInterval: src.PollInterval, Token: src.Token, SSHKey: src.SSHKey, Builder: src.Builder,
		})
	}
	g := s.cfg.GitSync
	return gitsync.Open(gitsync.Options{
		Dir: dir, Sources: sources, AllowLocal: g.AllowLocal, Builders: availableBuilders(dir, g.Builder, g.StorageDriver),
		Concurrency: g.Concurrency, Timeout: g.BuildTimeout, Retries: g.Retries,
		Log: s.log.With("component", "gitsync"),
	})
}

// availableBuilders are the builders this machine can run, the preferred
// one first.
func availableBuilders(dir, preferred, storageDriver string) []recipes.Builder {
	var out []recipes.Builder
	if _, err := exec.LookPath("buildah"); err == nil {
		b := &recipes.Buildah{Root: filepath.Join(dir, "buildah"), StorageDriver: storageDriver}
		out = append(out, b, &recipes.SIF{Buildah: b})
	}
	if dockerAnswers() {
		out = append(out, &recipes.Docker{})
	}
	for i, b := range out {
		if b.Name() == preferred {
			out[0], out[i] = out[i], out[0]
		}
	}
	return out
}

func dockerAnswers() bool {
	if _, err := exec.LookPath("docker"); err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").Run() == nil
}

// pushAddress is where builders push: gitsync.registry, else the bound
// listen address (loopback for a wildcard one).
func pushAddress(configured, bound string) string {
	if configured != "" {
		return configured
	}
	host, port, err := net.SplitHostPort(bound)
	if err != nil {
		return bound
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
