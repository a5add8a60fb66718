// Package envconfig loads a configuration struct from a YAML file and then
// environment variables named <PREFIX>_<YAML PATH>, for the registry's
// configuration and the stager's alike. It imports nothing of Oyster's, so
// that the stager's configuration does not pull in the registry's.
package envconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Load reads the YAML file at path (if path is not empty) over the struct
// cfg points to, refusing unknown keys, then applies the environment
// overrides from environ (see Apply). An empty file keeps every default.
func Load(cfg any, path, prefix string, environ []string) error {
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("parsing config %s: %w", path, err)
		}
	}
	return Apply(cfg, prefix, environ)
}

// Apply overrides the fields of the struct cfg points to from environ's
// <prefix>_<PATH> variables, as Load does for the registry (the stager's
// configuration uses it with OYSTER_STAGER). A list takes comma-separated
// values; a map, YAML flow style ({lab: {private: true}}), replacing the
// file's.
func Apply(cfg any, prefix string, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, prefix+"_") {
			env[k] = v
		}
	}
	var firstErr error
	walkFields(reflect.ValueOf(cfg).Elem(), prefix, func(name string, field reflect.Value) {
		raw, ok := env[name]
		if !ok || firstErr != nil {
			return
		}
		if err := setField(field, raw); err != nil {
			firstErr = fmt.Errorf("config: %s=%q: %w", name, raw, err)
		}
	})
	return firstErr
}

// Keys lists the environment variables Apply understands for the
// struct cfg points to.
func Keys(cfg any, prefix string) []string {
	var keys []string
	walkFields(reflect.ValueOf(cfg).Elem(), prefix, func(name string, _ reflect.Value) {
		keys = append(keys, name)
	})
	return keys
}

// walkFields calls fn for every leaf field with its environment variable name.
func walkFields(v reflect.Value, prefix string, fn func(string, reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		name := prefix + "_" + strings.ToUpper(tag)
		field := v.Field(i)
		if field.Kind() == reflect.Struct {
			walkFields(field, name, fn)
			continue
		}
		fn(name, field)
	}
}

func setField(field reflect.Value, raw string) error {
	switch field.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return err
		}
		field.SetInt(int64(d))
		return nil
	}
	switch field.Kind() {
	case reflect.String:
		field.SetString(raw)
	case reflect.Map: // auth.namespaces: YAML flow style, {lab: {private: true}}
		field.Set(reflect.Zero(field.Type()))
		dec := yaml.NewDecoder(strings.NewReader(raw))
		dec.KnownFields(true)
		return dec.Decode(field.Addr().Interface())
	case reflect.Slice:
		if field.Type().Elem().Kind() == reflect.Struct { // sources: YAML flow style, [{name: a, url: b}]
			dec := yaml.NewDecoder(strings.NewReader(raw))
			dec.KnownFields(true) // a misspelt key is an error, not ignored
			return dec.Decode(field.Addr().Interface())
		}
		if field.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list of %s", field.Type().Elem().Kind())
		}
		var items []string
		for _, item := range strings.Split(raw, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		field.Set(reflect.ValueOf(items))
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return err
		}
		field.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return err
		}
		field.SetInt(n)
	default:
		return fmt.Errorf("unsupported kind %s", field.Kind())
	}
	return nil
}
