package oci

import (
	"strings"
	"testing"
)

func TestDecodeManifestRefusesNegativeSizes(t *testing.T) {
	const d = `"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"`
	cases := map[string]string{
		"config":       `{"schemaVersion":2,"config":{` + d + `,"size":-2},"layers":[]}`,
		"layers[1]":    `{"schemaVersion":2,"config":{` + d + `,"size":2},"layers":[{` + d + `,"size":2},{` + d + `,"size":-9223372036854775808}]}`,
		"manifests[0]": `{"schemaVersion":2,"manifests":[{` + d + `,"size":-1}]}`,
		"subject":      `{"schemaVersion":2,"config":{` + d + `,"size":2},"subject":{` + d + `,"size":-1}}`,
	}
	for where, raw := range cases {
		if _, err := DecodeManifest([]byte(raw)); err == nil || !strings.HasPrefix(err.Error(), where+": size -") {
			t.Errorf("%s: got %v, want an error naming %s", raw, err, where)
		}
	}
	ok := `{"schemaVersion":2,"config":{` + d + `,"size":0},"layers":[{` + d + `,"size":2}],"subject":{` + d + `,"size":2}}`
	if _, err := DecodeManifest([]byte(ok)); err != nil {
		t.Fatalf("sizes of 0 and more refused: %v", err)
	}
}
