package recipes

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const dockerfile = `# syntax=docker/dockerfile:1
ARG BASE=debian:12
FROM golang:1.22 AS build
RUN apt-get install -y gcc
FROM ${BASE}
LABEL org.opencontainers.image.title="Py env" maintainer=lab
LABEL old style value
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10 \
      ca-certificates:amd64 $EXTRA && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir -r req.txt numpy==1.26.4 'scipy>=1.11' pandas[excel] ./local \
 && python3 -m pip install Requests
RUN mamba install -y -c conda-forge -n base xarray=2024.1 conda-forge::netcdf4 && conda clean -a
COPY --from=build /x /x
`

func TestParseDockerfile(t *testing.T) {
	d, err := ParseDockerfile("Dockerfile", []byte(dockerfile), map[string]string{"BASE": "lab/base:1"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Base != "lab/base:1" {
		t.Errorf("base %q, want the build argument's lab/base:1", d.Base)
	}
	if want := []string{"golang:1.22", "lab/base:1"}; !reflect.DeepEqual(d.Bases, want) {
		t.Errorf("bases %v, want %v", d.Bases, want)
	}
	wantLabels := map[string]string{"org.opencontainers.image.title": "Py env", "maintainer": "lab", "old": "style value"}
	if !reflect.DeepEqual(d.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", d.Labels, wantLabels)
	}
	want := []Package{
		{"apt", "curl", "7.88.1-10"}, {"apt", "ca-certificates", ""},
		{"pip", "numpy", "1.26.4"}, {"pip", "scipy", ""}, {"pip", "pandas", ""}, {"pip", "requests", ""},
		{"conda", "xarray", "2024.1"}, {"conda", "netcdf4", ""},
	}
	if !reflect.DeepEqual(d.Packages, want) {
		t.Errorf("packages\n got %v\nwant %v", d.Packages, want)
	}
}

func TestParseDockerfileDefaultArgAndStageBase(t *testing.T) {
	d, err := ParseDockerfile("Dockerfile", []byte("ARG V=3.19\nFROM alpine:${V} AS a\nFROM a\nRUN apk add x\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Base != "a" || !reflect.DeepEqual(d.Bases, []string{"alpine:3.19"}) {
		t.Errorf("base %q bases %v: want the stage a and only alpine:3.19 as an image", d.Base, d.Bases)
	}
}

// parseCase is a recipe source and the *ParseError it must give: its line
// and a part of its message.
type parseCase struct {
	src  string
	line int
	msg  string
}

func (c parseCase) check(t *testing.T, err error, path string) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err %v, want a *ParseError", err)
	}
	if pe.Line != c.line || pe.Path != path || !strings.Contains(pe.Msg, c.msg) {
		t.Errorf("got %q (%s line %d), want %s line %d and %q", err, pe.Path, pe.Line, path, c.line, c.msg)
	}
}

func TestMalformedDockerfileFailsWithLine(t *testing.T) {
	cases := map[string]parseCase{
		"unknown instruction": {"FROM x\nRUN true\nFOO bar\n", 3, "unknown instruction FOO"},
		"before FROM":         {"# c\nRUN true\nFROM x\n", 2, "RUN before the first FROM"},
		"no FROM":             {"ARG X=1\n", 0, "no FROM"},
		"label without =":     {"FROM x\nLABEL a=b c\n", 2, "can't find ="},
		"empty FROM":          {"FROM x\nFROM\n", 2, "FROM"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseDockerfile("envs/Dockerfile", []byte(c.src), nil)
			c.check(t, err, "envs/Dockerfile")
		})
	}
}

const definition = `Bootstrap: docker
From: lab/base:latest

%files
    data/a.txt /opt/a.txt

%post
    apt-get update && apt-get install -y python3-numpy
    pip install xarray==2024.1

%environment
    export LC_ALL=C

%labels
    Author lab@example.org
    Version 1.0

%runscript
    exec python3 "$@"

%help
    A test image.
`

func TestParseDefinition(t *testing.T) {
	d, err := ParseDefinition("Singularity", []byte(definition))
	if err != nil {
		t.Fatal(err)
	}
	if d.Header["bootstrap"] != "docker" || d.Header["from"] != "lab/base:latest" {
		t.Errorf("header %v", d.Header)
	}
	var names []string
	for _, s := range d.Sections {
		names = append(names, s.Name)
	}
	if want := []string{"files", "post", "environment", "labels", "runscript", "help"}; !reflect.DeepEqual(names, want) {
		t.Errorf("sections %v, want %v", names, want)
	}
	if !strings.Contains(d.Section("runscript"), `exec python3 "$@"`) {
		t.Errorf("runscript %q", d.Section("runscript"))
	}
	decl := d.Declared()
	if decl.Base != "lab/base:latest" {
		t.Errorf("base %q", decl.Base)
	}
	if want := map[string]string{"Author": "lab@example.org", "Version": "1.0"}; !reflect.DeepEqual(decl.Labels, want) {
		t.Errorf("labels %v, want %v", decl.Labels, want)
	}
	if want := []Package{{"apt", "python3-numpy", ""}, {"pip", "xarray", "2024.1"}}; !reflect.DeepEqual(decl.Packages, want) {
		t.Errorf("packages %v, want %v", decl.Packages, want)
	}
	if err := d.Unsupported("Singularity"); err != nil {
		t.Errorf("supported file reported %v", err)
	}
}

func TestMalformedDefinitionFailsWithLine(t *testing.T) {
	cases := map[string]parseCase{
		"unknown section": {"Bootstrap: docker\nFrom: x\n%postt\n  true\n", 3, "unknown section %postt"},
		"bad header":      {"Bootstrap: docker\nFrom x\n", 2, "is not \"Key: value\""},
		"no bootstrap":    {"From: x\n%post\n", 1, "no Bootstrap"},
		"no from":         {"\nBootstrap: docker\n%post\n", 2, "needs a From"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseDefinition("x.def", []byte(c.src))
			c.check(t, err, "x.def")
		})
	}
}

func TestUnsupportedDefinitionFeaturesNameFeatureAndLine(t *testing.T) {
	cases := map[string]parseCase{
		"library": {"Bootstrap: library\nFrom: alpine\n", 1, "Bootstrap: library is not supported"},
		"setup":   {"Bootstrap: docker\nFrom: x\n\n%setup\n  touch $SINGULARITY_ROOTFS/x\n", 4, "%setup runs on the build host"},
		"apps":    {"Bootstrap: scratch\n%appinstall foo\n  true\n", 2, "%appinstall is not supported"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := ParseDefinition("x.def", []byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, d.Unsupported("x.def"), "x.def")
		})
	}
}

func TestFindDerivesNames(t *testing.T) {
	fsys := fstest.MapFS{
		"Dockerfile":                   {Data: []byte("FROM x\n")},
		"envs/Py_3/Containerfile":      {Data: []byte("FROM x\n")},
		"envs/gpu.Dockerfile":          {Data: []byte("FROM x\n")},
		"hpc/Singularity.mpi":          {Data: []byte("Bootstrap: scratch\n")},
		"hpc/tools.def":                {Data: []byte("Bootstrap: scratch\n")},
		"README.md":                    {Data: []byte("x")},
		".git/Dockerfile":              {Data: []byte("FROM x\n")},
		"envs/link/Dockerfile":         {Data: []byte("../Dockerfile"), Mode: os.ModeSymlink},
		"docs/Dockerfile.example.text": {Data: []byte("x")},
	}
	got, err := Find(fsys, "lab")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Dockerfile": "lab", "envs/Py_3/Containerfile": "lab/envs/py-3", "envs/gpu.Dockerfile": "lab/envs/gpu",
		"hpc/Singularity.mpi": "lab/hpc/mpi", "hpc/tools.def": "lab/hpc/tools",
	}
	if len(got) != len(want) {
		t.Fatalf("found %v, want %v", got, want)
	}
	for _, r := range got {
		if want[r.Path] != r.Repository || !ValidRepository(r.Repository) {
			t.Errorf("%s -> %q, want %q", r.Path, r.Repository, want[r.Path])
		}
	}
}

func TestFindAppliesOysterYAML(t *testing.T) {
	fsys := fstest.MapFS{
		"oyster.yaml": {Data: []byte(`recipes:
  envs/py/Dockerfile:
    repository: lab/python
    context: envs
    tags: ["{sha}", "stable"]
    build_args: {PY: "3.12"}
    platforms: [linux/amd64]
    hub: true
`)},
		"envs/py/Dockerfile": {Data: []byte("FROM x\n")},
	}
	got, err := Find(fsys, "src")
	if err != nil {
		t.Fatal(err)
	}
	want := Recipe{Path: "envs/py/Dockerfile", Kind: Dockerfile, Repository: "lab/python", Context: "envs",
		Tags: []string{"{sha}", "stable"}, BuildArgs: map[string]string{"PY": "3.12"}, Platforms: []string{"linux/amd64"}, Hub: true}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestFindRefusesBadOysterYAML(t *testing.T) {
	cases := map[string]string{
		"context outside":  "recipes:\n  Dockerfile:\n    context: ../..\n",
		"absolute context": "recipes:\n  Dockerfile:\n    context: /etc\n",
		"bad repository":   "recipes:\n  Dockerfile:\n    repository: Lab/UPPER\n",
		"unknown recipe":   "recipes:\n  nothere/Dockerfile:\n    repository: x\n",
		"unknown key":      "recipes:\n  Dockerfile:\n    repo: x\n",
		"clash":            "recipes:\n  Dockerfile:\n    repository: lab/a\n  a/Dockerfile:\n    repository: lab/a\n",
	}
	for name, yml := range cases {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{"oyster.yaml": {Data: []byte(yml)}, "Dockerfile": {Data: []byte("FROM x\n")}, "a/Dockerfile": {Data: []byte("FROM x\n")}}
			if got, err := Find(fsys, "lab"); err == nil {
				t.Fatalf("found %v, want an error", got)
			}
		})
	}
}

func TestTagsFor(t *testing.T) {
	r := Recipe{Tags: DefaultTags}
	rev := Revision{Commit: "0123456789abcdef0123", Branch: "feature/x", Time: time.Date(2026, 11, 27, 23, 0, 0, 0, time.FixedZone("x", -3600))}
	if got, want := r.TagsFor(rev), []string{"0123456789ab", "20261128", "feature-x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("off the default branch: %v, want %v", got, want)
	}
	rev.Branch, rev.DefaultBranch = "main", true
	if got, want := r.TagsFor(rev), []string{"0123456789ab", "20261128", "main", "latest"}; !reflect.DeepEqual(got, want) {
		t.Errorf("default branch: %v, want %v", got, want)
	}
}

func TestCheckInsideRefusesEscapes(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	mustWrite(t, filepath.Join(root, "ok/Dockerfile"), "FROM x\n")
	mustWrite(t, filepath.Join(root, "bad/Dockerfile"), "FROM x\n")
	mustWrite(t, filepath.Join(outside, "secret"), "s")
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "bad/secret")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../ok/Dockerfile", filepath.Join(root, "ok/inside")); err != nil {
		t.Fatal(err)
	}
	if err := CheckInside(root, Recipe{Path: "ok/Dockerfile", Context: "ok"}); err != nil {
		t.Errorf("a link inside the repository refused: %v", err)
	}
	for _, r := range []Recipe{
		{Path: "bad/Dockerfile", Context: "bad"},
		{Path: "ok/Dockerfile", Context: "../x"},
		{Path: "ok/inside", Context: "ok"},
	} {
		if err := CheckInside(root, r); err == nil {
			t.Errorf("%+v accepted", r)
		}
	}
}

func mustWrite(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestUnsupportedLocalimageAndStageFiles(t *testing.T) {
	for src, want := range map[string]string{
		"Bootstrap: localimage\nFrom: ./base.sif\n":                      "x.def:1: Bootstrap: localimage is not supported",
		"Bootstrap: docker\nFrom: x\n%files from build\n  /a /a\n":       "x.def:3: %files from build (from another stage) is not supported",
		"Bootstrap: docker\nFrom: x\nStage: two\n%post\n  true\n%help\n": "",
	} {
		d, err := ParseDefinition("x.def", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		err = d.Unsupported("x.def")
		if (want == "") != (err == nil) || err != nil && !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
}

func TestFilesMustStayInsideTheRepository(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	mustWrite(t, filepath.Join(root, "hpc/data/a.txt"), "a")
	mustWrite(t, filepath.Join(outside, "secret"), "s")
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "hpc/leak")); err != nil {
		t.Fatal(err)
	}
	r := Recipe{Path: "hpc/Singularity", Context: "hpc"}
	parse := func(files string) *DefinitionFile {
		d, err := ParseDefinition(r.Path, []byte("Bootstrap: scratch\n%files\n"+files))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	got, err := filesToCopy(root, r, parse("    data/a.txt\n    data/a.txt /opt/b.txt\n"))
	if err != nil || len(got) != 2 || got[0] != (fileCopy{"hpc/data/a.txt", "/data/a.txt"}) || got[1] != (fileCopy{"hpc/data/a.txt", "/opt/b.txt"}) {
		t.Errorf("inside: %v %v", got, err)
	}
	for files, want := range map[string]string{
		"  ../../etc/passwd /x\n": "hpc/Singularity:3: %files source ../../etc/passwd reaches outside the repository",
		"  /etc/passwd /x\n":      "hpc/Singularity:3: %files source /etc/passwd reaches outside the repository",
		"  leak /x\n":             "hpc/Singularity:3: %files source hpc/leak leads outside the repository through a symbolic link",
		"  missing /x\n":          "hpc/Singularity:3: %files source hpc/missing:",
	} {
		if _, err := filesToCopy(root, r, parse(files)); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: %v, want %q", files, err, want)
		}
	}
}
