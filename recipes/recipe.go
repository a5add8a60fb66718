package recipes

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Kind says which language a recipe is written in.
type Kind string

const (
	// Dockerfile is a Dockerfile or Containerfile.
	Dockerfile Kind = "dockerfile"
	// Definition is an Apptainer/Singularity definition file.
	Definition Kind = "definition"
)

// Recipe is one buildable recipe found in a tree, with the settings
// oyster.yaml gives it (or the defaults derived from its path).
type Recipe struct {
	// Path is the recipe file, slash-separated, relative to the tree root.
	Path string `json:"path"`
	Kind Kind   `json:"kind"`
	// Repository is the Oyster repository the image is pushed to.
	Repository string `json:"repository"`
	// Context is the build context directory relative to the root ("."
	// is the root); changes under it rebuild the recipe.
	Context string `json:"context"`
	// Tags are tag templates: {sha}, {date} and {branch} are replaced;
	// "latest" is only applied on the default branch.
	Tags      []string          `json:"tags"`
	BuildArgs map[string]string `json:"build_args,omitempty"`
	Platforms []string          `json:"platforms,omitempty"`
	// Hub offers the image in the JupyterHub dropdown.
	Hub bool `json:"hub,omitempty"`
}

// DefaultTags are the tag templates of a recipe oyster.yaml says nothing
// about.
var DefaultTags = []string{"{sha}", "{date}", "{branch}", "latest"}

// Declared is what a recipe says about its image, before any build: the
// catalog shows it beside what the build really installed.
type Declared struct {
	// Base is the image the final stage starts from ("scratch" for none).
	Base string `json:"base"`
	// Bases are every stage's base, in order; the base cascade follows them.
	Bases    []string          `json:"bases,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Packages []Package         `json:"packages,omitempty"`
}

// Package is one package a recipe installs, as written in it.
type Package struct {
	// Manager is apt, pip or conda (conda and mamba both).
	Manager string `json:"manager"`
	Name    string `json:"name"`
	// Version is the pinned version, if the recipe pins one.
	Version string `json:"version,omitempty"`
}

// ParseError is a malformed recipe: where and what.
type ParseError struct {
	Path string
	Line int // 1-based; 0 when the error is about the whole file
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.Path, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
}

// Declare parses the recipe r in the tree at root and returns what it
// declares.
func Declare(root string, r Recipe) (Declared, error) {
	p := filepath.Join(root, filepath.FromSlash(r.Path))
	switch r.Kind {
	case Dockerfile:
		return ReadDockerfile(p, r.Path, r.BuildArgs)
	case Definition:
		d, err := ReadDefinition(p, r.Path)
		if err != nil {
			return Declared{}, err
		}
		return d.Declared(), nil
	}
	return Declared{}, fmt.Errorf("%s: unknown recipe kind %q", r.Path, r.Kind)
}

// DeclaredLabels are the labels a build adds so that the catalog shows
// what the recipe declares beside what the image really holds:
// org.oyster.recipe.base and org.oyster.recipe.packages
// ("apt:curl=7.88 pip:numpy", space-separated).
func DeclaredLabels(d Declared) map[string]string {
	var pkgs []string
	for _, p := range d.Packages {
		s := p.Manager + ":" + p.Name
		if p.Version != "" {
			s += "=" + p.Version
		}
		pkgs = append(pkgs, s)
	}
	out := map[string]string{"org.oyster.recipe.base": d.Base}
	if len(pkgs) > 0 {
		out["org.oyster.recipe.packages"] = strings.Join(pkgs, " ")
	}
	return out
}
