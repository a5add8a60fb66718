package oci

import "fmt"

// Limits bound what reading one layer may cost. Layers come from anyone who
// can push, so every size that a blob claims or implies is checked against
// one of these before it can cost memory or time. A zero field takes the
// default.
type Limits struct {
	// MaxLayerBytes caps the decompressed tar stream of one layer.
	MaxLayerBytes int64 `json:"maxLayerBytes,omitempty"`
	// MaxFileBytes caps the content of one file handed to a caller.
	MaxFileBytes int64 `json:"maxFileBytes,omitempty"`
	// MaxEntries caps the number of tar entries in one layer.
	MaxEntries int `json:"maxEntries,omitempty"`
}

// Defaults sized for scientific images, and the registry's configuration
// defaults too (config.Default takes them from here): CUDA and conda layers
// of 10+ GiB exist, and a layer is streamed, so a big one costs time, not
// memory; a file is held in memory by its parser, and the largest package
// databases (the Berkeley DB rpmdb of a full RHEL install) reach 100+ MiB.
const (
	DefaultMaxLayerBytes int64 = 32 << 30
	DefaultMaxFileBytes  int64 = 256 << 20
	DefaultMaxEntries          = 2_000_000
)

// LayerBytes is MaxLayerBytes, or its default when zero.
func (l Limits) LayerBytes() int64 { return orDefault(l.MaxLayerBytes, DefaultMaxLayerBytes) }

// FileBytes is MaxFileBytes, or its default when zero.
func (l Limits) FileBytes() int64 { return orDefault(l.MaxFileBytes, DefaultMaxFileBytes) }

// Entries is MaxEntries, or its default when zero.
func (l Limits) Entries() int64 { return orDefault(int64(l.MaxEntries), DefaultMaxEntries) }

func orDefault(v, def int64) int64 {
	if v <= 0 {
		return def
	}
	return v
}

// LimitKind names which of the Limits was exceeded.
type LimitKind string

// The kinds of limit a layer can exceed.
const (
	LimitLayerBytes LimitKind = "layer bytes"
	LimitFileBytes  LimitKind = "file bytes"
	LimitEntries    LimitKind = "entries"
)

// LimitError reports a layer or file that exceeds one of the Limits. It is a
// distinct type so that callers can record "too big, skipped" instead of
// "broken", and retry with larger limits if they choose.
type LimitError struct {
	Limit LimitKind
	Max   int64
	// Path is the file concerned, for LimitFileBytes.
	Path string
	// Claimed is the size a tar header claimed, when that is what was refused.
	Claimed int64
}

func (e *LimitError) Error() string {
	msg := fmt.Sprintf("layer exceeds the limit of %d %s", e.Max, e.Limit)
	if e.Path != "" {
		msg = fmt.Sprintf("%s: file exceeds the limit of %d %s", e.Path, e.Max, e.Limit)
	}
	if e.Claimed > 0 {
		msg += fmt.Sprintf(" (tar header claims %d bytes)", e.Claimed)
	}
	return msg
}
