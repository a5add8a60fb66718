package web

import (
	"fmt"
	"html"
	"html/template"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// uiFuncs are the helpers templates use. None returns template.HTML:
// text from images reaches templates as plain strings, which html/template
// escapes; only search highlights are HTML, and marked sanitises them.
var uiFuncs = template.FuncMap{
	"asset":       func(name string) string { return assetURLs[name] },
	"size":        humanSize,
	"ago":         ago,
	"isoTime":     isoTime,
	"fullTime":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"short":       shortDigest,
	"count":       thousands,
	"plural":      plural,
	"join":        strings.Join,
	"imageURL":    imageURL,
	"repoURL":     func(repo string) string { return "/repo/" + repo },
	"searchURL":   func(q string) string { return searchURL(q, "", 1) },
	"argv":        argv,
	"inc":         func(i int) int { return i + 1 },
	"runtimeName": runtimeName,
}

// runtimeName capitalises a Record.Runtimes key: python → Python, r → R.
func runtimeName(name string) string {
	if name == "" {
		return name
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

// ago says how long ago t was, as people read dates in a list.
func ago(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	d := time.Since(t)
	day := 24 * time.Hour
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < day:
		return plural(int(d/time.Hour), "hour") + " ago"
	case d < 30*day:
		return plural(int(d/day), "day") + " ago"
	case d < 365*day:
		return plural(int(d/(30*day)), "month") + " ago"
	}
	return plural(int(d/(365*day)), "year") + " ago"
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// plural writes "1 image", "2 images", "2 repositories".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if stem, ok := strings.CutSuffix(noun, "y"); ok && !strings.HasSuffix(stem, "a") && !strings.HasSuffix(stem, "e") {
		return thousands(n) + " " + stem + "ies"
	}
	return thousands(n) + " " + noun + "s"
}

// thousands writes n with comma separators, as counts are read.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// shortDigest is the first 12 hex digits of a digest, as docker shows them.
func shortDigest(d string) string {
	_, hex, ok := strings.Cut(d, ":")
	if !ok {
		hex = d
	}
	return hex[:min(12, len(hex))]
}

// imageURL is the image page of repo@digest.
func imageURL(repo, digest string) string { return "/image/" + repo + "@" + digest }

// searchURL links to a results page; empty sort and page 1 are left out
// so that links stay short.
func searchURL(q, sort string, page int) string {
	v := url.Values{"q": {q}}
	if sort != "" {
		v.Set("sort", sort)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return "/search?" + v.Encode()
}

// argv writes a command (entrypoint, cmd) as a shell would read it back.
func argv(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`*?;&|<>(){}[]#~!") {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

var markTag = regexp.MustCompile(`</?mark>`)

// marked renders a search highlight. The search index escapes the text and
// wraps matches in <mark>, but the text comes from images, so it is not
// trusted: every piece between tags is unescaped and escaped again, and
// only balanced <mark> and </mark> come through as HTML.
func marked(fragment string) template.HTML {
	var b strings.Builder
	open, last := false, 0
	for _, loc := range markTag.FindAllStringIndex(fragment, -1) {
		b.WriteString(html.EscapeString(html.UnescapeString(fragment[last:loc[0]])))
		last = loc[1]
		if isOpen := fragment[loc[0]+1] != '/'; isOpen != open {
			b.WriteString(fragment[loc[0]:loc[1]])
			open = isOpen
		}
	}
	b.WriteString(html.EscapeString(html.UnescapeString(fragment[last:])))
	if open {
		b.WriteString("</mark>")
	}
	return template.HTML(b.String()) //nolint:gosec // built above from escaped text and literal <mark> tags
}

// hostPlaceholder stands in for a Host header that is not host[:port], so
// that a copy-paste command can never carry what a client put there.
const hostPlaceholder = "REGISTRY_HOST"

// registryHost is the host people reach the registry at, for commands.
func registryHost(hostHeader string) string {
	if hostPattern.MatchString(hostHeader) {
		return hostHeader
	}
	return hostPlaceholder
}

// plainHTTP says whether the request came over plain HTTP, in which case
// clients need their insecure-registry switches. A TLS-terminating proxy
// in front says so with X-Forwarded-Proto.
func plainHTTP(tls bool, forwardedProto string) bool {
	return !tls && !strings.EqualFold(forwardedProto, "https")
}

// humanSize writes a byte count in SI units, as registries show sizes.
func humanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
