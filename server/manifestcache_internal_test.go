package server

import (
	"fmt"
	"testing"

	"github.com/distribution/distribution/v3/manifest/ocischema"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

func testManifest(t *testing.T, note string) *ocischema.DeserializedManifest {
	t.Helper()
	m, err := ocischema.FromStruct(ocischema.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   v1.MediaTypeImageManifest,
		Config:      v1.Descriptor{MediaType: v1.MediaTypeImageConfig, Digest: digest.FromString("config"), Size: 6},
		Annotations: map[string]string{"note": note},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestManifestCacheStaysWithinBytes(t *testing.T) {
	const limit = 4 << 10
	c := newManifestCache(limit)
	for i := range 100 {
		m := testManifest(t, fmt.Sprint(i))
		c.storeManifest(c.snapshot(), "lab/x", digest.FromString(fmt.Sprint(i)), m)
		c.storeTag(c.snapshot(), "lab/x", fmt.Sprint("t", i), v1.Descriptor{Digest: digest.FromString(fmt.Sprint(i))})
		if c.bytes > limit || c.bytes <= 0 {
			t.Fatalf("after %d stores the cache holds %d bytes, limit %d", i+1, c.bytes, limit)
		}
	}
	if _, ok := c.tag("lab/x", "t0"); ok {
		t.Fatal("the least recently used entry survived")
	}
	if _, ok := c.tag("lab/x", "t99"); !ok {
		t.Fatal("the most recent entry was evicted")
	}
}

func TestManifestCacheRefusesReadsOlderThanAWrite(t *testing.T) {
	c := newManifestCache(1 << 20)
	before := c.snapshot()
	c.forgetTag("lab/x", "latest") // a write lands while the read is under way
	c.storeTag(before, "lab/x", "latest", v1.Descriptor{Digest: digest.FromString("old")})
	if _, ok := c.tag("lab/x", "latest"); ok {
		t.Fatal("a read begun before a write was cached")
	}
}

func TestManifestCacheOffHoldsNothing(t *testing.T) {
	var c *manifestCache = newManifestCache(0)
	c.storeTag(c.snapshot(), "lab/x", "latest", v1.Descriptor{Digest: digest.FromString("x")})
	if _, ok := c.tag("lab/x", "latest"); ok {
		t.Fatal("a cache of 0 bytes held an entry")
	}
}
