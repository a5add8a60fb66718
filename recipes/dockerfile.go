package recipes

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// dockerInstructions are the instructions a Dockerfile may hold; the
// parser accepts any word, the builders do not.
var dockerInstructions = set("from", "run", "cmd", "label", "maintainer", "expose", "env", "add", "copy",
	"entrypoint", "volume", "user", "workdir", "arg", "onbuild", "stopsignal", "healthcheck", "shell")

// ParseDockerfile parses a Dockerfile with buildkit's parser and returns
// what it declares. buildArgs fill ARGs used in FROM lines. A malformed
// file is a *ParseError with the line.
func ParseDockerfile(name string, src []byte, buildArgs map[string]string) (Declared, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return Declared{}, &ParseError{Path: name, Line: errorLine(err), Msg: err.Error()}
	}
	d := Declared{Labels: map[string]string{}}
	args := map[string]string{}
	inStage := false
	for _, n := range res.AST.Children {
		n.Value = strings.ToLower(n.Value) // the parser keeps the case written
		if !dockerInstructions[n.Value] {
			return Declared{}, &ParseError{Path: name, Line: n.StartLine, Msg: fmt.Sprintf("unknown instruction %s", strings.ToUpper(n.Value))}
		}
		if !inStage && n.Value != "from" && n.Value != "arg" {
			return Declared{}, &ParseError{Path: name, Line: n.StartLine, Msg: fmt.Sprintf("%s before the first FROM", strings.ToUpper(n.Value))}
		}
		switch n.Value {
		case "arg":
			if !inStage {
				globalArgs(n, args, buildArgs)
			}
		case "from":
			if n.Next == nil {
				return Declared{}, &ParseError{Path: name, Line: n.StartLine, Msg: "FROM needs an image"}
			}
			inStage = true
			base := expandArgs(n.Next.Value, args)
			d.Bases = append(d.Bases, base)
			d.Base = base
			// Labels and packages are the final stage's: earlier stages
			// are build tools that do not ship.
			d.Labels, d.Packages = map[string]string{}, nil
		case "label":
			for kv := n.Next; kv != nil && kv.Next != nil; kv = kv.Next.Next.Next {
				d.Labels[unquote(kv.Value)] = unquote(kv.Next.Value)
				if kv.Next.Next == nil {
					break
				}
			}
		case "run":
			d.Packages = append(d.Packages, shellPackages(runScript(n))...)
		}
	}
	if !inStage {
		return Declared{}, &ParseError{Path: name, Line: 0, Msg: "no FROM instruction"}
	}
	d.Bases = stageBases(d.Bases, res.AST.Children)
	return d, nil
}

// ReadDockerfile reads and parses the Dockerfile at path (named name in errors).
func ReadDockerfile(path, name string, buildArgs map[string]string) (Declared, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return Declared{}, err
	}
	return ParseDockerfile(name, src, buildArgs)
}

// stageBases drops the bases that name an earlier stage ("FROM build"),
// which are not images.
func stageBases(bases []string, nodes []*parser.Node) []string {
	stages := map[string]bool{}
	var out []string
	i := 0
	for _, n := range nodes {
		if n.Value != "from" || n.Next == nil {
			continue
		}
		if !stages[strings.ToLower(bases[i])] {
			out = append(out, bases[i])
		}
		if as := n.Next.Next; as != nil && strings.EqualFold(as.Value, "as") && as.Next != nil {
			stages[strings.ToLower(as.Next.Value)] = true
		}
		i++
	}
	return out
}

// globalArgs records an ARG before the first FROM: its default, or the
// build argument given for it.
func globalArgs(n *parser.Node, args, buildArgs map[string]string) {
	for a := n.Next; a != nil; a = a.Next {
		k, v, _ := strings.Cut(a.Value, "=")
		if given, ok := buildArgs[k]; ok {
			v = given
		}
		args[k] = unquote(v)
	}
}

// expandArgs replaces $NAME and ${NAME} by the global ARGs.
func expandArgs(s string, args map[string]string) string {
	return os.Expand(s, func(k string) string {
		name, def, _ := strings.Cut(k, ":-")
		if v, ok := args[name]; ok && v != "" {
			return v
		}
		return def
	})
}

// runScript is a RUN instruction's shell text, heredocs included.
func runScript(n *parser.Node) string {
	var b strings.Builder
	for a := n.Next; a != nil; a = a.Next {
		b.WriteString(a.Value)
		b.WriteByte(' ')
	}
	for _, h := range n.Heredocs {
		b.WriteByte('\n')
		b.WriteString(h.Content)
	}
	return b.String()
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// errorLine is the first line buildkit's error points at, or 0.
func errorLine(err error) int {
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		return le.Locations[0][0].Start.Line
	}
	return 0
}
