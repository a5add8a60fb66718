package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/sirupsen/logrus"
)

// bridgeLogrus sends distribution's logrus output through slog, so the
// process writes one structured log stream.
func bridgeLogrus(log *slog.Logger, level string) {
	std := logrus.StandardLogger()
	std.SetOutput(io.Discard)
	std.SetFormatter(discardFormatter{}) // the hook logs; formatting for io.Discard is waste
	lvl, err := logrus.ParseLevel(level)
	if err != nil {
		lvl = logrus.InfoLevel
	}
	std.SetLevel(lvl)
	std.ReplaceHooks(logrus.LevelHooks{})
	std.AddHook(&slogHook{log: log.With("component", "distribution")})
}

type discardFormatter struct{}

func (discardFormatter) Format(*logrus.Entry) ([]byte, error) { return nil, nil }

type slogHook struct{ log *slog.Logger }

func (h *slogHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h *slogHook) Fire(e *logrus.Entry) error {
	ctx := e.Context
	if ctx == nil {
		ctx = context.Background()
	}
	level := slogLevel(e.Level)
	if status, ok := e.Data["http.response.status"].(int); ok && status < 500 && level > slog.LevelInfo {
		level = slog.LevelInfo // a client's 404 or 400 is not the registry's error
	}
	if e.Message == "authorized request" {
		// With auth on, distribution says this of every request; the
		// "response completed" line that follows names the user too.
		level = slog.LevelDebug
	}
	if !h.log.Enabled(ctx, level) {
		return nil
	}
	attrs := make([]slog.Attr, 0, len(e.Data))
	for k, v := range e.Data {
		if strings.HasPrefix(k, "http.request.useragent") {
			continue
		}
		attrs = append(attrs, slog.String(k, fmt.Sprint(v)))
	}
	h.log.LogAttrs(ctx, level, e.Message, attrs...)
	return nil
}

func slogLevel(l logrus.Level) slog.Level {
	switch l {
	case logrus.TraceLevel, logrus.DebugLevel:
		return slog.LevelDebug
	case logrus.InfoLevel:
		return slog.LevelInfo
	case logrus.WarnLevel:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

// NewLogger builds the process logger from the configured level and format.
func NewLogger(w io.Writer, level, format string) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
