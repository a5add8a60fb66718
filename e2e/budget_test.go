package e2e

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/internal/testlayers"
)

// budgetMemoryBound is what issue 9's poison images may raise the
// registry's peak resident memory (VmHWM) to, all of them indexed at once
// by two workers. Before the catalog had a budget, the status file alone
// ran it out of memory and the index took it past 11 GB. The largest part
// now is the SBOM of near 64 MiB, the most a document may have: parsing it
// and indexing the 100,000 packages kept cost about 420 MiB on their own.
const budgetMemoryBound = 1 << 30

// blob is a pushed blob's descriptor.
type blob struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int    `json:"size"`
}

// pushBlob uploads data to repo in one PUT and returns its descriptor.
func pushBlob(t *testing.T, host, repo, mediaType string, data []byte) blob {
	t.Helper()
	d := sha256Digest(data)
	resp, err := http.Post(fmt.Sprintf("http://%s/v2/%s/blobs/uploads/", host, repo), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodPut, abs(host, resp.Header.Get("Location"))+"&digest="+d, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT blob %s: %d", d, resp.StatusCode)
	}
	return blob{MediaType: mediaType, Digest: d, Size: len(data)}
}

const (
	ociManifest = "application/vnd.oci.image.manifest.v1+json"
	ociIndex    = "application/vnd.oci.image.index.v1+json"
	ociLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// pushManifest puts a manifest of repo under ref (a tag, or its digest when
// empty) and returns its descriptor.
func pushManifest(t *testing.T, host, repo, ref, mediaType string, m map[string]any) blob {
	t.Helper()
	m["schemaVersion"], m["mediaType"] = 2, mediaType
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256Digest(raw)
	if ref == "" {
		ref = d
	}
	putManifest(t, host, repo, ref, mediaType, raw)
	return blob{MediaType: mediaType, Digest: d, Size: len(raw)}
}

// pushGzipImage pushes an image of repo:tag whose layers are the gzip
// streams given, and returns its descriptor.
func pushGzipImage(t *testing.T, host, repo, tag string, layers ...[]byte) blob {
	t.Helper()
	cfg := pushBlob(t, host, repo, "application/vnd.oci.image.config.v1+json",
		[]byte(`{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers"}}`))
	var descs []blob
	for _, l := range layers {
		descs = append(descs, pushBlob(t, host, repo, ociLayer, l))
	}
	return pushManifest(t, host, repo, tag, ociManifest, map[string]any{"config": cfg, "layers": descs})
}

// gzipTar writes a gzip tar layer with write, never holding the tar.
func gzipTar(t *testing.T, write func(tw *tar.Writer) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := write(tw); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeTarFile(tw *tar.Writer, name string, body []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}); err != nil {
		return err
	}
	_, err := tw.Write(body)
	return err
}

// emptyStanzas is issue 9's 131 KB layer: a dpkg status of n stanzas "x".
func emptyStanzas(t *testing.T, n int) []byte {
	return gzipTar(t, func(tw *tar.Writer) error {
		return writeTarFile(tw, "var/lib/dpkg/status", bytes.Repeat([]byte("x\n\n"), n))
	})
}

// spdxDocument lists n conda packages.
func spdxDocument(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"spdxVersion":"SPDX-2.3","packages":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"name":"sbompkg%d","versionInfo":"1.%d","externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:conda/sbompkg%d@1.%d"}]}`, i, i, i, i)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// budgetRecord is what the API says of an image, as far as the budget
// matters.
type budgetRecord struct {
	Children           []struct{ Digest string } `json:"children"`
	Packages           []struct{ Name, Source string }
	IndexErrors        []string `json:"index_errors"`
	IndexErrorsOmitted int      `json:"index_errors_omitted"`
	Partial            bool     `json:"partial"`
	Truncated          []string `json:"truncated"`
}

// waitRecord polls the API until the catalog has a record of repo@d.
func waitRecord(t *testing.T, host, repo, d string) budgetRecord {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(fmt.Sprintf("http://%s/api/v1/images/%s@%s", host, repo, d))
		if err != nil {
			t.Fatalf("the registry stopped answering: %v", err)
		}
		var rec budgetRecord
		err = json.NewDecoder(resp.Body).Decode(&rec)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && err == nil {
			return rec
		}
	}
	t.Fatalf("%s@%s was never indexed", repo, d)
	return budgetRecord{}
}

var metricLine = regexp.MustCompile(`^(\S+?)(\{[^}]*\})? (\S+)$`)

// metrics reads the registry's Prometheus metrics: name{labels} → value.
func metrics(t *testing.T, host string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + host + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if m := metricLine.FindStringSubmatch(sc.Text()); m != nil && !strings.HasPrefix(m[1], "#") {
			v, _ := strconv.ParseFloat(m[3], 64)
			out[m[1]+m[2]] = v
		}
	}
	return out
}

// waitIdle polls until the catalog has done at least tags tag refreshes
// and has nothing queued or running.
func waitIdle(t *testing.T, host string, tags float64) map[string]float64 {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		m := metrics(t, host)
		done := m[`oyster_catalog_tasks_total{kind="tags",result="ok"}`]
		if done >= tags && m["oyster_catalog_queue_depth"] == 0 {
			return m
		}
	}
	t.Fatalf("the catalog never went idle")
	return nil
}

// peakMemory is the registry process's peak resident memory (VmHWM).
func peakMemory(t *testing.T, p *registryProc) int64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(raw)
	if m == nil {
		t.Fatalf("no VmHWM in /proc/%d/status", p.Pid)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

func joined(rec budgetRecord) string {
	return strings.Join(rec.Truncated, "\n") + "\n" + strings.Join(rec.IndexErrors, "\n")
}

// TestBudgetPoisonImages pushes issue 9's crafted images, all small, at
// once with an ordinary image, to a registry with two catalog workers.
// The registry keeps answering, its peak memory stays under
// budgetMemoryBound, every record says what was cut and why, the ordinary
// image is indexed, and a restart indexes none of them again.
func TestBudgetPoisonImages(t *testing.T) {
	reg := startRegistry(t, "", "OYSTER_CATALOG_WORKERS=2")
	h := reg.Host
	type pushed struct{ repo, digest string }
	var mu sync.Mutex
	images := map[string]pushed{}
	push := func(name string, fn func() pushed) func() {
		return func() {
			p := fn()
			mu.Lock()
			images[name] = p
			mu.Unlock()
		}
	}
	const stanzas, escapes, whiteouts, bigSBOMPackages = 10_000_000, 1_999_000, 45_000, 400_000
	childPackages := testlayers.ManyDpkgPackages(2000)
	jobs := []func(){
		// 1. Problems without a cap: ten million malformed stanzas.
		push("stanzas", func() pushed {
			return pushed{"poison/stanzas", pushGzipImage(t, h, "poison/stanzas", "1", emptyStanzas(t, stanzas)).Digest}
		}),
		// 1. ... and path problems: entries climbing out of the root.
		push("escapes", func() pushed {
			layer := gzipTar(t, func(tw *tar.Writer) error {
				for i := range escapes {
					if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("../../x%d", i), Typeflag: tar.TypeReg, Mode: 0o644}); err != nil {
						return err
					}
				}
				return nil
			})
			return pushed{"poison/escapes", pushGzipImage(t, h, "poison/escapes", "1", layer).Digest}
		}),
		// 2. An index listing one child twenty times; the child has many
		// packages and many problems.
		push("index", func() pushed {
			status := testlayers.DpkgStatus(childPackages...) + strings.Repeat("x\n\n", 300_000)
			child := pushGzipImage(t, h, "poison/index", "", gzipTar(t, func(tw *tar.Writer) error {
				return writeTarFile(tw, "var/lib/dpkg/status", []byte(status))
			}))
			var entries []map[string]any
			for range 20 {
				entries = append(entries, map[string]any{"mediaType": ociManifest, "digest": child.Digest, "size": child.Size,
					"platform": map[string]string{"os": "linux", "architecture": "amd64"}})
			}
			return pushed{"poison/index", pushManifest(t, h, "poison/index", "1", ociIndex, map[string]any{"manifests": entries}).Digest}
		}),
		// 3. An SBOM referrer listing one 1.4 MB SPDX document 300 times.
		push("sbom", func() pushed {
			subject := pushGzipImage(t, h, "poison/sbom", "1", gzipTar(t, func(tw *tar.Writer) error {
				return writeTarFile(tw, "etc/os-release", []byte(testlayers.DebianOSRelease))
			}))
			doc := pushBlob(t, h, "poison/sbom", "application/spdx+json", spdxDocument(10_000))
			empty := pushBlob(t, h, "poison/sbom", "application/vnd.oci.empty.v1+json", []byte("{}"))
			layers := make([]blob, 300)
			for i := range layers {
				layers[i] = doc
			}
			pushManifest(t, h, "poison/sbom", "", ociManifest, map[string]any{
				"artifactType": "application/spdx+json", "config": empty, "layers": layers,
				"subject": subject,
			})
			return pushed{"poison/sbom", subject.Digest}
		}),
		// 3. ... and an SBOM near the 64 MiB a document may have, listing
		// 400,000 packages, over the budget of packages per image.
		push("bigsbom", func() pushed {
			subject := pushGzipImage(t, h, "poison/bigsbom", "1", gzipTar(t, func(tw *tar.Writer) error {
				return writeTarFile(tw, "etc/os-release", []byte(testlayers.DebianOSRelease))
			}))
			doc := pushBlob(t, h, "poison/bigsbom", "application/spdx+json", spdxDocument(bigSBOMPackages))
			empty := pushBlob(t, h, "poison/bigsbom", "application/vnd.oci.empty.v1+json", []byte("{}"))
			pushManifest(t, h, "poison/bigsbom", "", ociManifest, map[string]any{
				"artifactType": "application/spdx+json", "config": empty, "layers": []blob{doc}, "subject": subject,
			})
			return pushed{"poison/bigsbom", subject.Digest}
		}),
		// 5. Whiteouts: packages in one layer, each whited out in the next.
		push("whiteouts", func() pushed {
			lower := gzipTar(t, func(tw *tar.Writer) error {
				for i := range whiteouts {
					body := fmt.Sprintf("Metadata-Version: 2.1\nName: wpkg%d\nVersion: 1.0\n", i)
					if err := writeTarFile(tw, fmt.Sprintf("usr/lib/python3/dist-packages/wpkg%d-1.0.dist-info/METADATA", i), []byte(body)); err != nil {
						return err
					}
				}
				return nil
			})
			upper := gzipTar(t, func(tw *tar.Writer) error {
				for i := range whiteouts {
					if err := writeTarFile(tw, fmt.Sprintf("usr/lib/python3/dist-packages/.wh.wpkg%d-1.0.dist-info", i), nil); err != nil {
						return err
					}
				}
				return nil
			})
			return pushed{"poison/whiteouts", pushGzipImage(t, h, "poison/whiteouts", "1", lower, upper).Digest}
		}),
		// An ordinary image pushed at the same time.
		push("ordinary", func() pushed {
			layer := gzipTar(t, func(tw *tar.Writer) error {
				return writeTarFile(tw, "var/lib/dpkg/status", []byte(testlayers.DpkgStatus("libc6=2.36-9+deb12u4", "budgetcontrol=1.0")))
			})
			return pushed{"lab/ordinary", pushGzipImage(t, h, "lab/ordinary", "1", layer).Digest}
		}),
	}
	var wg sync.WaitGroup
	for _, job := range jobs {
		wg.Go(job)
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	recs := map[string]budgetRecord{}
	for name, p := range images {
		recs[name] = waitRecord(t, h, p.repo, p.digest)
	}
	eventually(t, h, "pkg:budgetcontrol", "lab/ordinary:1")
	waitIdle(t, h, 0)

	if rec := recs["stanzas"]; !rec.Partial || len(rec.IndexErrors) != 20 || rec.IndexErrorsOmitted != stanzas-20 ||
		!strings.Contains(joined(rec), fmt.Sprintf("index errors: %d, over the limit of 100; %d were counted, not listed", stanzas, stanzas-20)) {
		t.Errorf("stanzas: partial %v, %d errors, %d omitted, truncated %q", rec.Partial, len(rec.IndexErrors), rec.IndexErrorsOmitted, rec.Truncated)
	}
	if rec := recs["escapes"]; !rec.Partial || len(rec.IndexErrors) != 100 || rec.IndexErrorsOmitted != escapes-100 ||
		!strings.Contains(rec.IndexErrors[0], "../../x0: entry name leaves the image root") {
		t.Errorf("escapes: partial %v, %d errors, %d omitted, first %q", rec.Partial, len(rec.IndexErrors), rec.IndexErrorsOmitted, rec.IndexErrors)
	}
	if rec := recs["index"]; len(rec.Children) != 20 || len(rec.Packages) != len(childPackages) || len(rec.IndexErrors) != 20 ||
		!rec.Partial || !strings.Contains(joined(rec), "index errors: 300000, over the limit of 100") {
		t.Errorf("index: %d children, %d packages, %d errors, truncated %q", len(rec.Children), len(rec.Packages), len(rec.IndexErrors), rec.Truncated)
	}
	if rec := recs["sbom"]; len(rec.Packages) != 10_000 || rec.Partial || len(rec.IndexErrors) != 0 {
		t.Errorf("sbom: %d packages, truncated %q, errors %q", len(rec.Packages), rec.Truncated, rec.IndexErrors)
	}
	if rec := recs["bigsbom"]; len(rec.Packages) != 100_000 || !rec.Partial ||
		!strings.Contains(joined(rec), fmt.Sprintf("packages: over the limit of 100000 per image; %d from sbom:", bigSBOMPackages-100_000)) {
		t.Errorf("bigsbom: %d packages, truncated %q", len(rec.Packages), rec.Truncated)
	}
	if rec := recs["whiteouts"]; len(rec.Packages) != 0 || rec.Partial {
		t.Errorf("whiteouts: %d packages survive, truncated %q", len(rec.Packages), rec.Truncated)
	}
	if rec := recs["ordinary"]; len(rec.Packages) != 2 || rec.Partial {
		t.Errorf("ordinary: %+v", rec)
	}
	peak := peakMemory(t, reg)
	t.Logf("registry peak memory (VmHWM): %d MiB", peak>>20)
	if peak > budgetMemoryBound {
		t.Errorf("registry peak memory %d MiB, over the bound of %d MiB", peak>>20, budgetMemoryBound>>20)
	}

	// A restart reconciles with storage and finds every image recorded:
	// it reads none of them again.
	reg.Stop()
	reg = startRegistry(t, reg.Data)
	m := waitIdle(t, reg.Host, float64(len(images)))
	for key, v := range m {
		if strings.HasPrefix(key, `oyster_catalog_tasks_total{kind="manifest"`) || key == "oyster_catalog_layers_scanned_total" {
			if v != 0 {
				t.Errorf("after a restart %s = %v, want 0", key, v)
			}
		}
	}
	if rec := waitRecord(t, reg.Host, "poison/stanzas", images["stanzas"].digest); !rec.Partial {
		t.Errorf("stanzas after a restart: %+v", rec)
	}

	// `registry reindex` keeps the five partial records (three images, the
	// index and its child) and rebuilds the other five manifests;
	// --retry-failed rebuilds all ten.
	reg.Stop()
	for _, tc := range []struct {
		flags []string
		want  string
	}{{nil, "reindex: 5/5 (100%)"}, {[]string{"--retry-failed"}, "reindex: 10/10 (100%)"}} {
		out := run(t, registryBin, append([]string{"reindex", "--data", reg.Data}, tc.flags...)...)
		if !strings.Contains(out, tc.want) {
			t.Errorf("reindex %v:\n%s\nwant %q", tc.flags, out, tc.want)
		}
	}
}

// An image that takes longer than catalog.budget.deadline is recorded as
// partially indexed, with the reason, and the worker moves on. A deadline
// of a nanosecond makes every image such an image.
func TestBudgetDeadline(t *testing.T) {
	reg := startRegistry(t, "", "OYSTER_CATALOG_BUDGET_DEADLINE=1ns")
	slow := pushGzipImage(t, reg.Host, "poison/slow", "1", emptyStanzas(t, 1_000_000))
	rec := waitRecord(t, reg.Host, "poison/slow", slow.Digest)
	if !rec.Partial || !strings.Contains(joined(rec), "indexing: over the deadline of 1ns; what was not read by then is missing") || len(rec.Packages) != 0 {
		t.Errorf("record: partial %v, truncated %q, errors %q", rec.Partial, rec.Truncated, rec.IndexErrors)
	}
	resp, err := http.Get("http://" + reg.Host + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: %s", resp.Status)
	}
}

// An image the registry dies while indexing, twice, is recorded as failed
// at the third start instead of read again: a poison image costs two
// restarts, never a crash loop. Other images are indexed meanwhile.
func TestBudgetCrashLoop(t *testing.T) {
	reg := startRegistry(t, "")
	layer := emptyStanzas(t, 10_000_000)
	poison := pushGzipImage(t, reg.Host, "poison/crash", "1", layer)
	// Killed while reading it, as the kernel's OOM killer would; the first
	// restart's reconcile reads it again, and is killed too.
	for range 2 {
		killWhileReading(t, reg, []string{sha256Digest(layer)})
		reg = startRegistry(t, reg.Data)
	}
	ordinary := pushGzipImage(t, reg.Host, "lab/ordinary", "1", gzipTar(t, func(tw *tar.Writer) error {
		return writeTarFile(tw, "var/lib/dpkg/status", []byte(testlayers.DpkgStatus("crashcontrol=1.0")))
	}))
	rec := waitRecord(t, reg.Host, "poison/crash", poison.Digest)
	if !rec.Partial || len(rec.IndexErrors) != 0 || !strings.Contains(joined(rec), "2 attempts did not finish (the registry stopped while reading this image)") {
		t.Errorf("poison record: partial %v, truncated %q, errors %q", rec.Partial, rec.Truncated, rec.IndexErrors)
	}
	if rec := waitRecord(t, reg.Host, "lab/ordinary", ordinary.Digest); len(rec.Packages) != 1 {
		t.Errorf("ordinary record: %+v", rec)
	}
	m := waitIdle(t, reg.Host, 2)
	if n := m["oyster_catalog_layers_scanned_total"]; n != 1 {
		t.Errorf("layers read at the third start: %v, want 1 (the ordinary image's)", n)
	}
}
