package pkgdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// condaRecord holds the fields of a conda-meta record the catalog uses; the
// rest (the file list, which dominates the size) is skipped by the decoder.
type condaRecord struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Channel string `json:"channel"`
	Subdir  string `json:"subdir"`
}

// ParseCondaMeta reads one conda-meta/<name>-<version>-<build>.json record
// of a conda (or mamba, pixi) environment.
func ParseCondaMeta(r io.Reader, source string) (Package, error) {
	var rec condaRecord
	if err := json.NewDecoder(limited(r, MaxMetadataBytes)).Decode(&rec); err != nil {
		if errors.Is(err, io.EOF) {
			return Package{}, errors.New("empty conda-meta record")
		}
		return Package{}, fmt.Errorf("conda-meta record: %w", err)
	}
	if rec.Name == "" || rec.Version == "" {
		return Package{}, errors.New("conda-meta record without name and version")
	}
	return Package{Name: rec.Name, Version: rec.Version, Ecosystem: Conda, Source: source, Arch: rec.Subdir, Origin: rec.Channel}, nil
}
