package recipes

import (
	"path"
	"strings"
)

// shellPackages returns the packages the shell script installs with
// apt-get/apt, pip or conda/mamba, in the order they appear. It reads the
// script as words, not as a shell would run it: variables and command
// substitutions are skipped, not expanded.
func shellPackages(script string) []Package {
	var out []Package
	for _, cmd := range shellCommands(script) {
		out = append(out, commandPackages(cmd)...)
	}
	return out
}

// shellCommands splits a script into simple commands (on newlines, ;, &&,
// || and |), each as its words with quotes removed.
func shellCommands(script string) [][]string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var cmds [][]string
	var words []string
	var word strings.Builder
	inWord := false
	endWord := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
			words = nil
		}
	}
	for i := 0; i < len(script); i++ {
		c := script[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(script[i+1:], c)
			if end < 0 {
				end = len(script) - i - 1
			}
			word.WriteString(script[i+1 : i+1+end])
			inWord = true
			i += end + 1
		case c == '#' && !inWord:
			for i < len(script) && script[i] != '\n' {
				i++
			}
			endCmd()
		case c == '\n' || c == ';' || c == '&' || c == '|':
			endCmd()
		case c == ' ' || c == '\t' || c == '\r':
			endWord()
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	endCmd()
	return cmds
}

// commandPackages returns the packages one command installs.
func commandPackages(words []string) []Package {
	words = dropPrefixes(words)
	if len(words) == 0 {
		return nil
	}
	tool := path.Base(words[0])
	args := words[1:]
	if strings.HasPrefix(tool, "python") && len(args) >= 2 && args[0] == "-m" {
		tool, args = args[1], args[2:]
	}
	switch {
	case tool == "apt-get" || tool == "apt" || tool == "aptitude":
		return installArgs(args, "apt", aptValueFlags, []string{"install"}, splitApt)
	case tool == "pip" || strings.HasPrefix(tool, "pip3") || tool == "pip2" || tool == "uv" && len(args) > 0 && args[0] == "pip":
		if tool == "uv" {
			args = args[1:]
		}
		return installArgs(args, "pip", pipValueFlags, []string{"install"}, splitPip)
	case tool == "conda" || tool == "mamba" || tool == "micromamba":
		return installArgs(args, "conda", condaValueFlags, []string{"install", "create"}, splitConda)
	}
	return nil
}

// dropPrefixes removes what runs a command without being it: variable
// assignments, sudo, env, time, exec.
func dropPrefixes(words []string) []string {
	for len(words) > 0 {
		w := words[0]
		switch {
		case w == "sudo" || w == "env" || w == "time" || w == "exec" || w == "command":
			words = words[1:]
		case strings.Contains(w, "=") && !strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "="):
			words = words[1:]
		default:
			return words
		}
	}
	return words
}

var (
	aptValueFlags   = set("-o", "-c", "-t", "--target-release", "--option", "--config-file")
	pipValueFlags   = set("-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--upgrade-strategy", "--platform", "--python-version", "--implementation", "--abi", "--src", "--trusted-host", "--cache-dir", "--log", "--progress-bar")
	condaValueFlags = set("-c", "--channel", "-n", "--name", "-p", "--prefix", "--file", "--override-channels-from", "-r", "--root-prefix")
)

func set(items ...string) map[string]bool {
	m := map[string]bool{}
	for _, s := range items {
		m[s] = true
	}
	return m
}

// installArgs finds the install verb in args and returns its package
// operands, skipping flags (and the values of valueFlags), variables, paths
// and URLs.
func installArgs(args []string, manager string, valueFlags map[string]bool, verbs []string, split func(string) (string, string)) []Package {
	var out []Package
	seenVerb := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "-"):
			if valueFlags[a] {
				i++ // its value
			}
		case !seenVerb:
			if !contains(verbs, a) {
				if !strings.Contains(a, "$") {
					return nil // another subcommand
				}
			}
			seenVerb = contains(verbs, a)
		case strings.ContainsAny(a, "$`/") || strings.HasPrefix(a, ".") || strings.Contains(a, "://"):
		default:
			name, version := split(a)
			if name != "" {
				out = append(out, Package{Manager: manager, Name: name, Version: version})
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// splitApt splits "curl=7.88.1-10" into name and version; an arch suffix
// (":amd64") and a release ("/bookworm") are dropped.
func splitApt(s string) (string, string) {
	name, version, _ := strings.Cut(s, "=")
	name, _, _ = strings.Cut(name, ":")
	return name, version
}

// splitPip splits "numpy==1.26.4" into name and version; extras are
// dropped, and a range ("numpy>=1.26") keeps the name only.
func splitPip(s string) (string, string) {
	if i := strings.IndexAny(s, "=<>!~;@ "); i >= 0 {
		name, rest := s[:i], s[i:]
		name, _, _ = strings.Cut(name, "[")
		if v, ok := strings.CutPrefix(rest, "=="); ok && !strings.ContainsAny(v, ",;<>*") {
			return strings.ToLower(name), v
		}
		return strings.ToLower(name), ""
	}
	name, _, _ := strings.Cut(s, "[")
	return strings.ToLower(name), ""
}

// splitConda splits "conda-forge::numpy=1.26" into name and version.
func splitConda(s string) (string, string) {
	if _, after, ok := strings.Cut(s, "::"); ok {
		s = after
	}
	if i := strings.IndexAny(s, "=<>!"); i >= 0 {
		name, rest := s[:i], strings.TrimLeft(s[i:], "=")
		if s[i] == '=' && !strings.ContainsAny(rest, "<>*,|") {
			version, _, _ := strings.Cut(rest, "=") // name=version=build
			return name, version
		}
		return name, ""
	}
	return s, ""
}
