package api

import (
	"time"

	"github.com/opencontainers/go-digest"
)

// RepositoryList is GET /api/v1/repositories: one page of repositories
// by name.
type RepositoryList struct {
	Total        int                 `json:"total"`
	Page         int                 `json:"page"`
	PerPage      int                 `json:"per_page"`
	Repositories []RepositorySummary `json:"repositories"`
}

// RepositorySummary is one row of the repository listing.
type RepositorySummary struct {
	Name    string    `json:"name"`
	Images  int       `json:"images"`
	Tags    int       `json:"tags"`
	Updated time.Time `json:"updated"`
	// Private says only some callers may pull it (auth on, and the
	// repository not public); it is left out otherwise.
	Private bool `json:"private,omitempty"`
}

// RepositoryDetail is GET /api/v1/repositories/{name}: its tags, newest
// first.
type RepositoryDetail struct {
	Name string    `json:"name"`
	Tags []TagInfo `json:"tags"`
	// Untagged counts manifests with no tag (index children, referrers).
	Untagged int  `json:"untagged"`
	Private  bool `json:"private,omitempty"` // as in RepositorySummary
}

// TagInfo is one tag of a repository.
type TagInfo struct {
	Tag       string        `json:"tag"`
	Digest    digest.Digest `json:"digest"`
	Kind      string        `json:"kind"`
	Platforms []string      `json:"platforms"`
	Size      int64         `json:"size"`
	Updated   time.Time     `json:"updated"`
	Newest    bool          `json:"newest"`
}

// Image is GET /api/v1/images/{ref}: everything the catalog knows about
// one manifest in one repository, and its pull count.
type Image struct {
	Repository string        `json:"repository"`
	Digest     digest.Digest `json:"digest"`
	MediaType  string        `json:"media_type"`
	Kind       string        `json:"kind"`
	Tags       []string      `json:"tags"`
	Updated    time.Time     `json:"updated"`
	// Created is the image's own creation time (config or annotation).
	Created         time.Time `json:"created,omitempty"`
	ArtifactType    string    `json:"artifact_type,omitempty"`
	ConfigMediaType string    `json:"config_media_type,omitempty"`
	// Subject is the manifest this one refers to (an SBOM's image, say).
	Subject   digest.Digest `json:"subject,omitempty"`
	Platforms []string      `json:"platforms,omitempty"` // os/arch[/variant]
	// Size is the manifest plus config plus compressed layers; for an
	// index, the sum over its children.
	Size             int64 `json:"size"`
	UncompressedSize int64 `json:"uncompressed_size,omitempty"`

	OCI         OCIInfo           `json:"oci"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Config      ImageConfig       `json:"config"`
	Layers      []Layer           `json:"layers,omitempty"`
	Children    []Child           `json:"children,omitempty"` // index entries

	OS       OSRelease         `json:"os"`
	Packages []Package         `json:"packages,omitempty"`
	Runtimes map[string]string `json:"runtimes,omitempty"` // python, r, julia, java → version
	CUDA     string            `json:"cuda,omitempty"`

	// Base are images this one is built on; Derived, images built on it.
	Base      []ImageRef `json:"base,omitempty"`
	Derived   []ImageRef `json:"derived,omitempty"`
	Referrers []Referrer `json:"referrers,omitempty"`
	SIF       *SIFInfo   `json:"sif,omitempty"`

	// IndexErrors says what could not be read; the rest is still useful.
	// At most the catalog's budget of them are listed; IndexErrorsOmitted
	// counts the rest.
	IndexErrors        []string `json:"index_errors,omitempty"`
	IndexErrorsOmitted int      `json:"index_errors_omitted,omitempty"`
	// Partial says the record holds less than the image: indexing ran over
	// the catalog's budget or failed; Truncated says what was cut and why.
	Partial   bool     `json:"partial,omitempty"`
	Truncated []string `json:"truncated,omitempty"`

	Pulls uint64 `json:"pulls"`
	// Private says only some callers may pull it (auth on, and its
	// repository not public); it is left out otherwise.
	Private bool `json:"private,omitempty"`
}

// OCIInfo holds the org.opencontainers.image.* annotations (or labels).
type OCIInfo struct {
	Title         string `json:"title,omitempty"`
	Description   string `json:"description,omitempty"`
	URL           string `json:"url,omitempty"`
	Source        string `json:"source,omitempty"`
	Revision      string `json:"revision,omitempty"`
	Version       string `json:"version,omitempty"`
	Licenses      string `json:"licenses,omitempty"`
	Vendor        string `json:"vendor,omitempty"`
	Authors       string `json:"authors,omitempty"`
	Documentation string `json:"documentation,omitempty"`
	Created       string `json:"created,omitempty"`
	BaseName      string `json:"base_name,omitempty"`
	BaseDigest    string `json:"base_digest,omitempty"`
}

// ImageConfig is the runtime configuration from the image config.
type ImageConfig struct {
	Env          []string `json:"env,omitempty"`
	Entrypoint   []string `json:"entrypoint,omitempty"`
	Cmd          []string `json:"cmd,omitempty"`
	ExposedPorts []string `json:"exposed_ports,omitempty"`
	WorkingDir   string   `json:"working_dir,omitempty"`
	User         string   `json:"user,omitempty"`
}

// Layer is one layer of an image with the history line that made it.
type Layer struct {
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"media_type"`
	Size      int64         `json:"size"`
	CreatedBy string        `json:"created_by,omitempty"`
}

// Child is one entry of an image index.
type Child struct {
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"media_type"`
	Platform  string        `json:"platform,omitempty"`
	Size      int64         `json:"size"`
}

// OSRelease is the image's /etc/os-release.
type OSRelease struct {
	ID              string `json:"id,omitempty"`
	IDLike          string `json:"idLike,omitempty"`
	VersionID       string `json:"versionId,omitempty"`
	VersionCodename string `json:"versionCodename,omitempty"`
	Name            string `json:"name,omitempty"`
	PrettyName      string `json:"prettyName,omitempty"`
}

// Package is an installed package and where the catalog learned of it.
type Package struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Ecosystem string `json:"ecosystem"`
	// Source is the file inside the image, or "sbom:<digest>" for packages
	// that came from an attached SBOM.
	Source string `json:"source,omitempty"`
}

// ImageRef points at another image.
type ImageRef struct {
	Repository string        `json:"repository"`
	Digest     digest.Digest `json:"digest"`
	Tag        string        `json:"tag,omitempty"`
	// Via says how the relation was found: "annotation" or "layers".
	Via string `json:"via"`
}

// Referrer is a manifest whose subject is this image (SBOM, signature...).
type Referrer struct {
	Digest       digest.Digest `json:"digest"`
	ArtifactType string        `json:"artifact_type"`
	MediaType    string        `json:"media_type"`
}

// SIFInfo is what a SIF file says about itself.
type SIFInfo struct {
	Arch       string            `json:"arch,omitempty"`
	DefFile    string            `json:"definition_file,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Env        string            `json:"environment,omitempty"`
	Runscript  string            `json:"runscript,omitempty"`
	Partitions []string          `json:"partitions,omitempty"`
}

// PackageList is GET /api/v1/images/{ref}/packages: one page of an
// image's packages that match the filter.
type PackageList struct {
	Image    string    `json:"image"` // repository@digest
	Total    int       `json:"total"`
	Page     int       `json:"page"`
	PerPage  int       `json:"per_page"`
	Packages []Package `json:"packages"`
}

// SearchResults is GET /api/v1/search: one page of hits, with facet
// counts over all of them.
type SearchResults struct {
	Total   int                     `json:"total"`
	Results []SearchHit             `json:"results"`
	Facets  map[string][]FacetCount `json:"facets"`
}

// SearchHit is one search result: enough of an image to list it.
type SearchHit struct {
	Repository  string        `json:"repository"`
	Digest      digest.Digest `json:"digest"`
	Tags        []string      `json:"tags,omitempty"`
	Kind        string        `json:"kind"`
	Title       string        `json:"title,omitempty"`
	Description string        `json:"description,omitempty"`
	Platforms   []string      `json:"platforms,omitempty"`
	Updated     time.Time     `json:"updated"`
	Size        int64         `json:"size"`
	Python      string        `json:"python,omitempty"`
	CUDA        string        `json:"cuda,omitempty"`
	OS          string        `json:"os,omitempty"`
	Score       float64       `json:"score,omitempty"`
	// Highlights are HTML, text escaped and matched words in <mark>, keyed
	// by repository, title and description.
	Highlights map[string][]string `json:"highlights,omitempty"`
	Private    bool                `json:"private,omitempty"` // as in Image
}

// FacetCount is one value of a facet, how many results have it, and the
// filter that narrows the query to it (ready to append to the query).
type FacetCount struct {
	Value  string `json:"value"`
	Count  int    `json:"count"`
	Filter string `json:"filter"`
}

// DockerSearchResults is GET /v1/search, in the shape `docker search`
// reads: one result per repository.
type DockerSearchResults struct {
	Query      string               `json:"query"`
	NumResults int                  `json:"num_results"`
	Results    []DockerSearchResult `json:"results"`
}

// DockerSearchResult is one repository in docker search's shape.
type DockerSearchResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	StarCount   int    `json:"star_count"`
	IsOfficial  bool   `json:"is_official"`
	IsAutomated bool   `json:"is_automated"`
}
