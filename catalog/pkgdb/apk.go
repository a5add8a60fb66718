package pkgdb

import (
	"fmt"
	"io"
)

// ParseApkInstalled reads Alpine's lib/apk/db/installed: stanzas of
// one-letter keys ("P:" name, "V:" version, "A:" arch, "o:" origin).
// Malformed stanzas are reported in the returned error and skipped.
func ParseApkInstalled(r io.Reader, source string) ([]Package, error) {
	return readStanzas(newStanzaReader(r, MaxDatabaseBytes, false), func(st stanza) (Package, bool, error) {
		name, version := st.get("P"), st.get("V")
		if name == "" || version == "" {
			return Package{}, false, fmt.Errorf("line %d: stanza without P: and V:", st.line)
		}
		return Package{Name: name, Version: version, Ecosystem: APK, Source: source, Arch: st.get("A"), Origin: st.get("o")}, true, nil
	})
}
