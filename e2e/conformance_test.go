package e2e

import (
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// conformanceSwitches are every API and data switch of the OCI
// distribution-spec conformance suite; all are turned on.
var conformanceSwitches = []string{
	"API_PULL", "API_PUSH", "API_BLOBS_ATOMIC", "API_BLOBS_DELETE", "API_BLOBS_DIGEST_HEADER",
	"API_BLOBS_MOUNT_ANONYMOUS", "API_BLOBS_UPLOAD_CANCEL", "API_MANIFESTS_ATOMIC",
	"API_MANIFESTS_DELETE", "API_MANIFESTS_DIGEST_HEADER", "API_MANIFESTS_TAG_PARAM",
	"API_TAGS_ATOMIC", "API_TAGS_DELETE", "API_TAGS_LIST", "API_REFERRER",
	"DATA_IMAGE", "DATA_INDEX", "DATA_INDEX_LIST", "DATA_SPARSE", "DATA_ARTIFACT",
	"DATA_SUBJECT", "DATA_SUBJECT_MISSING", "DATA_ARTIFACT_LIST", "DATA_SUBJECT_LIST",
	"DATA_DATA_FIELD", "DATA_NONDISTRIBUTABLE", "DATA_CUSTOM_FIELDS", "DATA_NO_LAYERS",
	"DATA_EMPTY_BLOB", "DATA_SHA512",
}

// optionalSkips are the conformance tests the registry may skip: features
// the distribution-spec leaves optional and Oyster (like distribution)
// does not offer. Each is known by the end of its name, for both digest
// algorithms, and by the suite's reason, so the same test skipped for
// another reason still fails. Any other skip fails TestConformance: the
// suite skips rather than fails when a registry stops answering Range or
// OCI-Filters-Applied, for instance.
var optionalSkips = []struct{ test, reason, why string }{
	{"blobs/post only/blob-post-only", "registry does not support content in the POST",
		"a whole blob in the POST that opens an upload is a MAY; clients fall back to POST then PUT"},
	{"blobs/bad digest post only/blob-post-only", "registry does not support content in the POST",
		"the same feature, with a wrong digest"},
	{"blobs/mount anonymous/blob-mount-anonymous", "registry returned status 202",
		"a mount without from= is a MAY; the registry answers 202 and the client uploads"},
}

type junitSuites struct {
	Suites []struct {
		Tests     int         `xml:"tests,attr"`
		Failures  int         `xml:"failures,attr"`
		Errors    int         `xml:"errors,attr"`
		Skipped   int         `xml:"skipped,attr"`
		TestCases []junitCase `xml:"testcase"`
	} `xml:"testsuite"`
}

type junitCase struct {
	Name    string    `xml:"name,attr"`
	Status  string    `xml:"status,attr"`
	Skipped *struct{} `xml:"skipped"`
	Out     string    `xml:"system-out"`
}

// unexpectedSkips lists the skipped tests that optionalSkips does not
// explain, with the suite's reason, and counts the skipped tests.
func unexpectedSkips(cases []junitCase) (out []string, skipped int) {
	for _, c := range cases {
		if c.Status != "skipped" && c.Skipped == nil {
			continue
		}
		skipped++
		if !knownSkip(c) {
			reason, _, _ := strings.Cut(strings.TrimSpace(c.Out), "\n")
			out = append(out, fmt.Sprintf("%s: %s", c.Name, reason))
		}
	}
	return out, skipped
}

func knownSkip(c junitCase) bool {
	for _, k := range optionalSkips {
		if strings.HasSuffix(c.Name, k.test) && strings.Contains(c.Out, k.reason) {
			return true
		}
	}
	return false
}

// TestConformance runs the pinned OCI distribution-spec conformance suite
// with every switch on against a fresh registry. The goal is no failures at
// all (the reference distribution v3.1.2 fails 91 of these) and no skips
// but the optional features.
func TestConformance(t *testing.T) {
	runConformance(t, startRegistry(t, ""))
}

// TestConformanceS3 runs the suite against a registry whose storage is an
// S3-compatible object store (versitygw over a local directory).
func TestConformanceS3(t *testing.T) {
	runConformance(t, startRegistry(t, "", startS3(t).env...))
}

func runConformance(t *testing.T, reg *registryProc) {
	t.Helper()
	suite := requireTool(t, "conformance")
	results := t.TempDir()
	cmd := exec.Command(suite)
	cmd.Dir = results
	cmd.Env = append(os.Environ(),
		"OCI_REGISTRY="+reg.Host, "OCI_TLS=disabled",
		"OCI_REPO1=conformance/repo1", "OCI_REPO2=conformance/repo2",
		"OCI_RESULTS_DIR="+results, "OCI_LOG=warn")
	for _, s := range conformanceSwitches {
		cmd.Env = append(cmd.Env, "OCI_"+s+"=true")
	}
	out, runErr := cmd.CombinedOutput()
	raw, err := os.ReadFile(filepath.Join(results, "junit.xml"))
	if err != nil {
		t.Fatalf("conformance suite wrote no junit report (%v):\n%s", runErr, out)
	}
	var report junitSuites
	if err := xml.Unmarshal(raw, &report); err != nil {
		t.Fatalf("parsing junit report: %v", err)
	}
	tests, failures, skipped := 0, 0, 0
	var cases []junitCase
	for _, s := range report.Suites {
		tests, failures, skipped = tests+s.Tests, failures+s.Failures+s.Errors, skipped+s.Skipped
		cases = append(cases, s.TestCases...)
	}
	t.Logf("conformance: %d tests, %d failed, %d skipped", tests, failures, skipped)
	if tests < 800 {
		t.Fatalf("conformance ran only %d tests; expected the full suite:\n%s", tests, out)
	}
	if failures > 0 || runErr != nil {
		t.Fatalf("%d conformance failures (exit: %v):\n%s", failures, runErr, failedLines(string(out)))
	}
	unexpected, named := unexpectedSkips(cases)
	if named != skipped {
		t.Fatalf("the junit report counts %d skipped tests but names %d", skipped, named)
	}
	if len(unexpected) > 0 {
		t.Fatalf("%d conformance tests skipped, %d of them not optional features:\n%s",
			skipped, len(unexpected), strings.Join(unexpected, "\n"))
	}
}

// failedLines keeps the suite's "failed test" log lines and its summary.
func failedLines(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "failed test") || strings.Contains(l, "FAIL") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
