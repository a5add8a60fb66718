package sif

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	sylabs "github.com/sylabs/sif/v2/pkg/sif"

	"github.com/oyster-registry/oyster/oci"
	"github.com/oyster-registry/oyster/oci/squashfs"
)

// Names apptainer gives its JSON.Generic objects.
const (
	ociConfigName       = "oci-config.json"
	inspectMetadataName = "inspect-metadata.json"
)

// reader accumulates what the descriptors say. Label sources are kept
// apart until finish, which layers them by precedence.
type reader struct {
	r      io.ReaderAt
	size   int64
	limits oci.Limits
	info   Info

	primary      bool
	ociLabels    map[string]string
	objectLabels map[string]string
	rootfsLabels map[string]string
	inspect      inspectAttributes
}

// object handles one descriptor.
func (rd *reader) object(d sylabs.Descriptor) {
	if d.Offset() < 0 || d.Size() < 0 || d.Offset() > rd.size || d.Size() > rd.size-d.Offset() {
		rd.problem("%s object %d: %d bytes at %d lie outside the file", d.DataType(), d.ID(), d.Size(), d.Offset())
		return
	}
	switch d.DataType() {
	case sylabs.DataDeffile:
		if b, ok := rd.read(d); ok {
			rd.info.DefFile = string(b)
		}
	case sylabs.DataLabels, sylabs.DataGenericJSON:
		if b, ok := rd.read(d); ok {
			rd.json(d, b)
		}
	case sylabs.DataPartition:
		rd.partition(d)
	case sylabs.DataSBOM:
		rd.sbom(d)
	}
}

// sbomTypes give SIF SBOM formats the media types they have as OCI
// referrers; the others get a type named after the format.
var sbomTypes = map[sylabs.SBOMFormat]string{
	sylabs.SBOMFormatCycloneDXJSON: "application/vnd.cyclonedx+json",
	sylabs.SBOMFormatCycloneDXXML:  "application/vnd.cyclonedx+xml",
	sylabs.SBOMFormatSPDXJSON:      "application/spdx+json",
	sylabs.SBOMFormatSPDXTagValue:  "text/spdx",
}

func (rd *reader) sbom(d sylabs.Descriptor) {
	f, err := d.SBOMMetadata()
	if err != nil || f.String() == "unknown" {
		rd.problem("SBOM object %d: unknown format %d (%v)", d.ID(), f, err)
		return
	}
	mediaType, ok := sbomTypes[f]
	if !ok {
		mediaType = "application/vnd.sylabs.sif.sbom." + f.String()
	}
	if b, ok := rd.read(d); ok {
		rd.info.SBOMs = append(rd.info.SBOMs, SBOM{MediaType: mediaType, Data: b})
	}
}

// read returns an object's bytes, or records why not.
func (rd *reader) read(d sylabs.Descriptor) ([]byte, bool) {
	if most := rd.limits.FileBytes(); d.Size() > most {
		rd.problem("%s object %q: %d bytes, over the limit of %d", d.DataType(), d.Name(), d.Size(), most)
		return nil, false
	}
	b, err := io.ReadAll(d.GetReader())
	if err != nil || int64(len(b)) != d.Size() {
		rd.problem("%s object %q: read %d of %d bytes: %v", d.DataType(), d.Name(), len(b), d.Size(), err)
		return nil, false
	}
	return b, true
}

// json sorts a JSON object by what apptainer names it: the OCI config,
// the inspect metadata, or else a map of labels.
func (rd *reader) json(d sylabs.Descriptor, b []byte) {
	var err error
	switch d.Name() {
	case ociConfigName:
		err = rd.ociConfig(b)
	case inspectMetadataName:
		err = rd.inspectMetadata(b)
	default:
		var labels map[string]string
		if labels, err = parseLabels(b); err == nil {
			rd.objectLabels = merge(rd.objectLabels, labels)
		} else if d.DataType() == sylabs.DataGenericJSON {
			err = nil // generic JSON of some other tool: not ours to index
		}
	}
	if err != nil {
		rd.problem("%s object %q: %v", d.DataType(), d.Name(), err)
	}
}

func (rd *reader) ociConfig(b []byte) error {
	var c v1.ImageConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	rd.info.Config = Config{
		Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd, WorkingDir: c.WorkingDir, User: c.User,
		ExposedPorts: slices.Sorted(maps.Keys(c.ExposedPorts)),
	}
	rd.ociLabels = c.Labels
	return nil
}

// inspectAttributes is the part of apptainer's inspect metadata
// (`apptainer inspect --json`) that is read: a fallback for what the root
// filesystem holds.
type inspectAttributes struct {
	Labels      map[string]string `json:"labels"`
	Environment map[string]string `json:"environment"`
	Runscript   string            `json:"runscript"`
	Deffile     string            `json:"deffile"`
}

func (rd *reader) inspectMetadata(b []byte) error {
	var m struct {
		Data struct {
			Attributes inspectAttributes `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	rd.inspect = m.Data.Attributes
	return nil
}

// parseLabels reads a labels.json-style object. Values are strings in
// apptainer's files; numbers and booleans are kept as their JSON text.
func parseLabels(b []byte) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		switch {
		case v[0] == '"' && json.Unmarshal(v, &s) == nil:
			out[k] = s
		case v[0] != '{' && v[0] != '[' && v[0] != 'n': // a number or boolean, not object, array, null
			out[k] = string(v)
		}
	}
	return out, nil
}

// partition lists a partition and opens the primary system one.
func (rd *reader) partition(d sylabs.Descriptor) {
	fsType, partType, arch, err := d.PartitionMetadata()
	if err != nil {
		rd.problem("partition %d: %v", d.ID(), err)
		return
	}
	rd.info.Partitions = append(rd.info.Partitions, fmt.Sprintf("%s (%s/%s/%s)", d.DataType(), fsType, partType, arch))
	if partType != sylabs.PartPrimSys || rd.primary {
		return
	}
	rd.primary = true
	if a := knownArch(arch); a != "" {
		rd.info.Arch = a
	}
	if fsType != sylabs.FsSquash {
		rd.problem("primary partition is %s: its contents are not indexed", fsType)
		return
	}
	root, err := squashfs.New(io.NewSectionReader(rd.r, d.Offset(), d.Size()), d.Size(), rd.limits)
	if err != nil {
		rd.problem("primary partition: %v", err)
		return
	}
	rd.info.Root = root
}

// merge copies src over dst, allocating dst if needed.
func merge(dst, src map[string]string) map[string]string {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]string, len(src))
	}
	maps.Copy(dst, src)
	return dst
}

func (rd *reader) problem(format string, a ...any) {
	rd.info.Problems = append(rd.info.Problems, fmt.Sprintf(format, a...))
}
