package recipes

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// DefinitionFile is a parsed Apptainer/Singularity definition file.
type DefinitionFile struct {
	// Header holds the keys before the first section, lower-cased
	// ("bootstrap", "from", "stage", ...), with the line of each.
	Header     map[string]string
	HeaderLine map[string]int
	Sections   []Section
	// Raw is the file as written: SIFs carry it.
	Raw []byte
}

// Section is one %section of a definition file.
type Section struct {
	Name string // without the %, lower-cased
	Args string // what follows the name on its line
	Line int
	Body string
}

// definitionSections are the sections apptainer knows.
var definitionSections = set("setup", "pre", "post", "environment", "labels", "runscript", "startscript",
	"files", "help", "test", "arguments", "appinstall", "appenv", "apphelp", "applabels", "apprun",
	"appfiles", "apptest", "appstart")

// buildableSections are the sections the builder carries out; the rest
// (%setup on the host, SCIF apps) fail the build by name.
var buildableSections = set("post", "environment", "labels", "runscript", "startscript", "files", "help", "test", "arguments")

// buildableBootstraps are the Bootstrap agents the builder supports.
var buildableBootstraps = set("docker", "scratch")

// ParseDefinition parses a definition file. A malformed one is a
// *ParseError with the line.
func ParseDefinition(name string, src []byte) (*DefinitionFile, error) {
	d := &DefinitionFile{Header: map[string]string{}, HeaderLine: map[string]int{}, Raw: src}
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	var body strings.Builder
	current := -1
	flush := func() {
		if current >= 0 {
			d.Sections[current].Body = body.String()
			body.Reset()
		}
	}
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		trimmed := strings.TrimSpace(text)
		if strings.HasPrefix(trimmed, "%") && !strings.HasPrefix(text, " ") && !strings.HasPrefix(text, "\t") {
			sname, args, _ := strings.Cut(trimmed[1:], " ")
			sname = strings.ToLower(sname)
			if !definitionSections[sname] {
				return nil, &ParseError{Path: name, Line: line, Msg: fmt.Sprintf("unknown section %%%s", sname)}
			}
			flush()
			d.Sections = append(d.Sections, Section{Name: sname, Args: strings.TrimSpace(args), Line: line})
			current = len(d.Sections) - 1
			continue
		}
		if current >= 0 {
			body.WriteString(text)
			body.WriteByte('\n')
			continue
		}
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		key, value, ok := strings.Cut(trimmed, ":")
		if !ok || strings.ContainsAny(strings.TrimSpace(key), " \t") {
			return nil, &ParseError{Path: name, Line: line, Msg: fmt.Sprintf("header line %q is not \"Key: value\"", trimmed)}
		}
		key = strings.ToLower(strings.TrimSpace(key))
		d.Header[key] = strings.TrimSpace(value)
		d.HeaderLine[key] = line
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{Path: name, Msg: err.Error()}
	}
	flush()
	if d.Header["bootstrap"] == "" {
		return nil, &ParseError{Path: name, Line: 1, Msg: "no Bootstrap header"}
	}
	if b := strings.ToLower(d.Header["bootstrap"]); b != "scratch" && d.Header["from"] == "" {
		return nil, &ParseError{Path: name, Line: d.HeaderLine["bootstrap"], Msg: fmt.Sprintf("Bootstrap: %s needs a From header", b)}
	}
	return d, nil
}

// ReadDefinition reads and parses the definition file at path (named name
// in errors).
func ReadDefinition(path, name string) (*DefinitionFile, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseDefinition(name, src)
}

// Unsupported names the first feature of d the builder does not carry
// out, with its line, or returns nil.
func (d *DefinitionFile) Unsupported(name string) error {
	if b := strings.ToLower(d.Header["bootstrap"]); !buildableBootstraps[b] {
		return &ParseError{Path: name, Line: d.HeaderLine["bootstrap"],
			Msg: fmt.Sprintf("Bootstrap: %s is not supported (only docker and scratch; push a local image to Oyster and use docker)", d.Header["bootstrap"])}
	}
	for _, s := range d.Sections {
		if s.Name == "files" && s.Args != "" {
			return &ParseError{Path: name, Line: s.Line, Msg: fmt.Sprintf("%%files %s (from another stage) is not supported", s.Args)}
		}
		if !buildableSections[s.Name] {
			why := "is not supported"
			if s.Name == "setup" || s.Name == "pre" {
				why = "runs on the build host and is not supported"
			}
			return &ParseError{Path: name, Line: s.Line, Msg: fmt.Sprintf("%%%s %s", s.Name, why)}
		}
	}
	return nil
}

// Section returns the body of the first section called name, or "".
func (d *DefinitionFile) Section(name string) string {
	for _, s := range d.Sections {
		if s.Name == name {
			return s.Body
		}
	}
	return ""
}

// Declared is what the definition file says about its image.
func (d *DefinitionFile) Declared() Declared {
	out := Declared{Labels: definitionLabels(d.Section("labels"))}
	switch strings.ToLower(d.Header["bootstrap"]) {
	case "scratch":
		out.Base = "scratch"
	default:
		out.Base = d.Header["from"]
	}
	out.Bases = []string{out.Base}
	for _, s := range d.Sections {
		if s.Name == "post" {
			out.Packages = append(out.Packages, shellPackages(s.Body)...)
		}
	}
	return out
}

// definitionLabels reads a %labels body: "KEY value" per line.
func definitionLabels(body string) map[string]string {
	labels := map[string]string{}
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, " ")
		labels[k] = strings.TrimSpace(v)
	}
	return labels
}
