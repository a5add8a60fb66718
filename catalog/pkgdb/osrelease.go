package pkgdb

import (
	"bufio"
	"errors"
	"io"
	"strings"
)

// OSRelease holds the os-release(5) fields the catalog shows and filters on.
type OSRelease struct {
	ID              string `json:"id,omitempty"`
	IDLike          string `json:"idLike,omitempty"`
	VersionID       string `json:"versionId,omitempty"`
	VersionCodename string `json:"versionCodename,omitempty"`
	Name            string `json:"name,omitempty"`
	PrettyName      string `json:"prettyName,omitempty"`
}

// MaxOSReleaseBytes bounds an os-release file; real ones are under 1 KiB.
const MaxOSReleaseBytes = 64 << 10

// ParseOSRelease reads /etc/os-release or /usr/lib/os-release: shell-style
// KEY=value lines whose values may be quoted.
func ParseOSRelease(r io.Reader) (OSRelease, error) {
	var o OSRelease
	fields := map[string]*string{
		"ID": &o.ID, "ID_LIKE": &o.IDLike, "VERSION_ID": &o.VersionID,
		"VERSION_CODENAME": &o.VersionCodename, "NAME": &o.Name, "PRETTY_NAME": &o.PrettyName,
	}
	sc := bufio.NewScanner(limited(r, MaxOSReleaseBytes))
	for sc.Scan() {
		key, value, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if dst := fields[key]; ok && dst != nil {
			*dst = unquoteShell(value)
		}
	}
	if err := sc.Err(); err != nil {
		return OSRelease{}, err
	}
	if o.ID == "" && o.Name == "" {
		return OSRelease{}, errors.New("os-release without ID or NAME")
	}
	return o, nil
}

// unquoteShell undoes the quoting os-release(5) allows: single quotes, or
// double quotes with backslash escapes of $ " \ and `.
func unquoteShell(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	var b strings.Builder
	inner := v[1 : len(v)-1]
	for i := 0; i < len(inner); i++ {
		if inner[i] == '\\' && i+1 < len(inner) && strings.IndexByte("$\"\\`", inner[i+1]) >= 0 {
			i++
		}
		b.WriteByte(inner[i])
	}
	return b.String()
}
