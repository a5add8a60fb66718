package api

import (
	"time"

	"github.com/opencontainers/go-digest"
)

// Why an image is on a cluster's staging list.
const (
	StageReasonPinned = "pinned" // an admin pinned it (configuration or API)
	StageReasonQuery  = "query"  // it matches the cluster's catalog query
	StageReasonHub    = "hub"    // a hub user selected it lately
)

// StageList is GET /api/v1/stage?cluster=NAME: what the cluster's
// stagers should hold, most wanted first. It carries an ETag; stagers poll
// with If-None-Match.
type StageList struct {
	Cluster string       `json:"cluster"`
	Images  []StageImage `json:"images"`
}

// StageImage is one image to stage, pinned by digest.
type StageImage struct {
	// Ref is repository@digest, without the registry host.
	Ref        string        `json:"ref"`
	Repository string        `json:"repository"`
	Tag        string        `json:"tag,omitempty"`
	Digest     digest.Digest `json:"digest"`
	Reason     string        `json:"reason"`
	// Pinned images are never evicted from a node's cache.
	Pinned bool `json:"pinned"`
}

// StagePin is PUT /api/v1/stage/pins: an admin pins an image for a
// cluster (empty: every cluster). DELETE with the same body unpins it.
type StagePin struct {
	Cluster string `json:"cluster,omitempty"`
	// Ref is repository:tag or repository@digest.
	Ref string `json:"ref"`
}

// StagerInventory is PUT /api/v1/stagers/{node}: what a node's cache
// holds. GET /api/v1/stagers lists every node's last report.
type StagerInventory struct {
	Node       string        `json:"node"`
	Cluster    string        `json:"cluster"`
	UsageBytes int64         `json:"usage_bytes"`
	QuotaBytes int64         `json:"quota_bytes"`
	Images     []StagedImage `json:"images"`
	// Reported is set by the registry when it receives the report.
	Reported time.Time `json:"reported"`
}

// StagedImage is one image on a node, in the formats it is staged as.
type StagedImage struct {
	Repository string        `json:"repository"`
	Refs       []string      `json:"refs"`
	Digest     digest.Digest `json:"digest"`
	Formats    []string      `json:"formats"`
	Bytes      int64         `json:"bytes"`
	LastUsed   time.Time     `json:"last_used"`
	Pinned     bool          `json:"pinned"`
}

// StagerList is GET /api/v1/stagers: every node's last inventory, by
// node name.
type StagerList struct {
	Stagers []StagerInventory `json:"stagers"`
}
