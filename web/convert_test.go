package web

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/search"
)

// fill sets every field reachable from v to a value that is not zero, so
// that a field the conversion leaves behind shows in the JSON.
func fill(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("s-" + v.Type().Name())
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint64:
		v.SetUint(7)
	case reflect.Float64:
		v.SetFloat(0.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(t, v.Index(0))
		fill(t, v.Index(1))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		key, val := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(t, key)
		fill(t, val)
		v.SetMapIndex(key, val)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i))
		}
	default:
		t.Fatalf("fill: no value for a %s; teach fill this kind", v.Type())
	}
}

// asJSONObject marshals v and reads it back as a generic object.
func asJSONObject(t *testing.T, v any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAPIShapesCarryEveryField: the API answers with everything the
// catalog's record and search response hold, under the same names.
func TestAPIShapesCarryEveryField(t *testing.T) {
	var rec catalog.Record
	fill(t, reflect.ValueOf(&rec).Elem())
	want := asJSONObject(t, &rec)
	want["pulls"] = 9.0
	if got := asJSONObject(t, imageJSON(&rec, 9, false)); !reflect.DeepEqual(got, want) {
		t.Errorf("image:\n got %v\nwant %v", got, want)
	}

	var resp search.Response
	fill(t, reflect.ValueOf(&resp).Elem())
	if got, want := asJSONObject(t, searchJSON(&resp, func(string) bool { return false })), asJSONObject(t, &resp); !reflect.DeepEqual(got, want) {
		t.Errorf("search results:\n got %v\nwant %v", got, want)
	}
}

func TestAPIShapesKeepEmptyListsOut(t *testing.T) {
	got := asJSONObject(t, imageJSON(&catalog.Record{Repository: "a", Digest: "sha256:00"}, 0, false))
	for _, key := range []string{"layers", "children", "packages", "base", "derived", "referrers", "sif", "index_errors"} {
		if _, ok := got[key]; ok {
			t.Errorf("empty %s is in the image JSON: %v", key, got[key])
		}
	}
}
