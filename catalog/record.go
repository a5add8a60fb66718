package catalog

import (
	"fmt"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog/pkgdb"
)

// Kinds of manifest the catalog distinguishes.
const (
	KindImage    = "image"
	KindIndex    = "index"
	KindSIF      = "sif"
	KindArtifact = "artifact"
)

// Record is everything the catalog knows about one manifest in one
// repository. It is derived from storage and can always be rebuilt from it.
type Record struct {
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
	// Subject is the digest of the manifest this one refers to (an SBOM's
	// image, say), from the manifest's subject field.
	Subject   digest.Digest `json:"subject,omitempty"`
	Platforms []string      `json:"platforms,omitempty"` // os/arch[/variant]
	// Size is the manifest plus config plus compressed layers; for an index,
	// the sum over its children.
	Size             int64 `json:"size"`
	UncompressedSize int64 `json:"uncompressed_size,omitempty"`

	OCI         OCIInfo           `json:"oci"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Config      ImageConfig       `json:"config"`
	Layers      []Layer           `json:"layers,omitempty"`
	Children    []Child           `json:"children,omitempty"` // index entries

	OS       pkgdb.OSRelease   `json:"os"`
	Packages []Package         `json:"packages,omitempty"`
	Runtimes map[string]string `json:"runtimes,omitempty"` // python, r, julia, java → version
	CUDA     string            `json:"cuda,omitempty"`

	// BaseImages are images this one is built on, found when it is
	// indexed. DerivedImages, the images built on it, change whenever one
	// is pushed: they are not stored but filled in when the record is
	// served (Store.DerivedImages).
	BaseImages    []ImageRef `json:"base,omitempty"`
	DerivedImages []ImageRef `json:"derived,omitempty"`
	Referrers     []Referrer `json:"referrers,omitempty"`
	SIF           *SIFInfo   `json:"sif,omitempty"`

	// IndexErrors says what could not be read; the record is still useful.
	// At most Budget.MaxProblems are listed; IndexErrorsOmitted counts the
	// rest.
	IndexErrors        []string `json:"index_errors,omitempty"`
	IndexErrorsOmitted int      `json:"index_errors_omitted,omitempty"`
	// Partial says the record holds less than the image: indexing ran over
	// the Budget or did not finish. Truncated says what was cut and why.
	// Reconciliation leaves a partial record alone; `registry reindex
	// --retry-failed` indexes it again.
	Partial   bool     `json:"partial,omitempty"`
	Truncated []string `json:"truncated,omitempty"`
}

// Cut notes that the budget cut something from rec, and why.
func (r *Record) Cut(format string, args ...any) {
	r.Partial = true
	r.Truncated = append(r.Truncated, fmt.Sprintf(format, args...))
}

// Ref names the record's manifest.
func (r *Record) Ref() Ref { return Ref{Repo: r.Repository, Digest: r.Digest} }

// Startable says whether a hub can start the record: images and indexes
// can, SIF files and artifacts cannot.
func (r *Record) Startable() bool { return r.Kind == KindImage || r.Kind == KindIndex }

// FindPackages lists the packages of pkgs whose name contains name (in any
// case) and, when ecosystem is not empty, that are of ecosystem.
func FindPackages(pkgs []Package, name, ecosystem string) []Package {
	found := []Package{}
	for _, p := range pkgs {
		if p.Matches(name, ecosystem) {
			found = append(found, p)
		}
	}
	return found
}

// Matches says whether p's name contains name (in any case) and, when
// ecosystem is not empty, p is of ecosystem.
func (p *Package) Matches(name, ecosystem string) bool {
	return strings.Contains(strings.ToLower(p.Name), strings.ToLower(name)) && (ecosystem == "" || p.Ecosystem == ecosystem)
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

// Package is an installed package and where the catalog learned of it.
type Package struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Ecosystem string `json:"ecosystem"`
	// Source is the file inside the image, or "sbom:<digest>" for packages
	// that came from an attached SBOM.
	Source string `json:"source,omitempty"`
}

// ImageRef points at another record.
type ImageRef struct {
	Repository string        `json:"repository"`
	Digest     digest.Digest `json:"digest"`
	Tag        string        `json:"tag,omitempty"`
	// Via says how the relation was found: ViaAnnotation or ViaLayers.
	Via string `json:"via"`
}

// How a relation between images was found.
const (
	// ViaAnnotation: the image's org.opencontainers.image.base.* names it.
	ViaAnnotation = "annotation"
	// ViaLayers: one image's layers are a strict prefix of the other's.
	ViaLayers = "layers"
)

// Referrer is a manifest whose subject is this record (SBOM, signature, ...).
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
