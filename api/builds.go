package api

import "time"

// Build statuses.
const (
	BuildQueued    = "queued"
	BuildRunning   = "running"
	BuildSucceeded = "succeeded"
	BuildFailed    = "failed"
	BuildCancelled = "cancelled"
)

// Builds is GET /api/v1/builds: newest first.
type Builds struct {
	Builds []Build `json:"builds"`
}

// Build is one build record: a recipe of a source at a commit.
type Build struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	// Recipe is the recipe's path in the source repository.
	Recipe string `json:"recipe"`
	Commit string `json:"commit"`
	// Status is queued, running, succeeded, failed or cancelled.
	Status string `json:"status"`
	// Digest is the pushed manifest's, once succeeded.
	Digest string `json:"digest"`
	// Tags are the tags the build pushes (pushed only if it succeeds).
	Tags       []string `json:"tags"`
	Repository string   `json:"repository"`
	Branch     string   `json:"branch"`
	// Trigger says why it was queued: push, poll, rebuild, or "base REPO".
	Trigger string `json:"trigger"`
	Builder string `json:"builder,omitempty"`
	// Error is why it failed, with the recipe's line when it is malformed.
	Error    string     `json:"error,omitempty"`
	Attempt  int        `json:"attempt"`
	Queued   time.Time  `json:"queued"`
	Started  *time.Time `json:"started,omitempty"`
	Finished *time.Time `json:"finished,omitempty"`
}

// WebhookResult answers a webhook: the builds it queued, or why it
// queued none.
type WebhookResult struct {
	Source  string  `json:"source,omitempty"`
	Queued  []Build `json:"queued"`
	Ignored string  `json:"ignored,omitempty"`
}

// RecipeSource is GET /api/v1/sources/{name}/recipe: a recipe as written
// at a commit, with what it declares, for an image's page.
type RecipeSource struct {
	Source string `json:"source"`
	Commit string `json:"commit"`
	Path   string `json:"path"`
	// CommitURL links to the commit on the source's forge (https sources).
	CommitURL string `json:"commit_url,omitempty"`
	Text      string `json:"text"`
	// Base and Packages are what the recipe declares, not what the image
	// holds.
	Base     string            `json:"base"`
	Packages []DeclaredPackage `json:"packages"`
}

// DeclaredPackage is a package a recipe installs, as written in it.
type DeclaredPackage struct {
	Manager string `json:"manager"`
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}
