package remote

import (
	"errors"
	"testing"
)

func TestParseRef(t *testing.T) {
	c, err := New(Options{URL: "http://127.0.0.1:5000", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	const dig = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for in, want := range map[string]string{
		"lab/a":                          "lab/a:latest",
		"lab/a:1.2":                      "lab/a:1.2",
		"127.0.0.1:5000/lab/a:1":         "lab/a:1",
		"lab/a@" + dig:                   "lab/a@" + dig,
		"127.0.0.1:5000/lab/a:v1@" + dig: "lab/a:v1@" + dig,
	} {
		r, err := c.ParseRef(in)
		if err != nil || r.String() != want {
			t.Errorf("ParseRef(%q) = %q, %v; want %q", in, r, err, want)
		}
	}
	for _, bad := range []string{"other.example/lab/a", "Lab/A", "lab/a@sha256:short", "lab/a:", "../x"} {
		if r, err := c.ParseRef(bad); err == nil {
			t.Errorf("ParseRef(%q) = %q, want an error", bad, r)
		}
	}
}

func TestNewRefusesPlainHTTP(t *testing.T) {
	if _, err := New(Options{URL: "http://127.0.0.1:5000"}); !errors.Is(err, ErrInsecure) {
		t.Errorf("plain HTTP without Insecure: %v", err)
	}
	if _, err := New(Options{}); err == nil {
		t.Error("no URL: no error")
	}
}
