package cli

import (
	"bytes"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestParseFlagsAnywhere(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "", "")
	cache := fs.String("cache", "", "")
	pos, rest, err := parse(fs, []string{"lab/a:1", "--format", "sif", "--cache=/c", "--", "echo", "--format", "{}"})
	if err != nil || *format != "sif" || *cache != "/c" || !reflect.DeepEqual(pos, []string{"lab/a:1"}) ||
		!reflect.DeepEqual(rest, []string{"echo", "--format", "{}"}) {
		t.Errorf("parse: pos %q rest %q format %q cache %q err %v", pos, rest, *format, *cache, err)
	}
}

func TestMainRefusesBadUse(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"frobnicate"},
		{"pull", "--registry", "http://127.0.0.1:1", "--insecure", "--cache", "CACHE"},               // no reference
		{"pull", "--registry", "http://127.0.0.1:1", "--insecure", "--cache", "CACHE", "a:1", "b:1"}, // two
		{"pull", "--registry", "http://127.0.0.1:1", "--cache", "CACHE", "a:1"},                      // plain HTTP without --insecure
		{"pull", "--registry", "http://127.0.0.1:1", "--insecure", "--cache", "CACHE", "--format", "docker", "a:1"},
	} {
		cache := t.TempDir()
		for i := range args {
			args[i] = strings.ReplaceAll(args[i], "CACHE", cache)
		}
		var stdout, stderr bytes.Buffer
		if code := Main(args, &stdout, &stderr, nil); code == 0 || stdout.Len() != 0 || stderr.Len() == 0 {
			t.Errorf("stager %q: exit %d, stdout %q, stderr %q", args, code, stdout.String(), stderr.String())
		}
	}
}
