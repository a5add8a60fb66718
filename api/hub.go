package api

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Profiles is GET /api/v1/hub/profiles: a KubeSpawner profile_list, one
// profile per tagged image and the first the default, every image pinned
// by digest.
type Profiles []Profile

// Profile is one entry of a KubeSpawner profile_list: either one image
// (KubespawnerOverride) or a dropdown of images (ProfileOptions).
type Profile struct {
	DisplayName         string                   `json:"display_name"`
	Description         string                   `json:"description"`
	Slug                string                   `json:"slug"`
	Default             bool                     `json:"default"`
	KubespawnerOverride *KubespawnerOverride     `json:"kubespawner_override,omitempty"`
	ProfileOptions      map[string]ProfileOption `json:"profile_options,omitempty"`
}

// KubespawnerOverride is the part of a profile that sets the image.
type KubespawnerOverride struct {
	Image string `json:"image"`
}

// ProfileOption is a dropdown of a profile: its choices keyed by slug, in
// the order the hub lists them, and whether other values are accepted.
type ProfileOption struct {
	DisplayName    string                 `json:"display_name"`
	Choices        Ordered[ProfileChoice] `json:"choices"`
	UnlistedChoice UnlistedChoice         `json:"unlisted_choice"`
}

// ProfileChoice is one image of a dropdown.
type ProfileChoice struct {
	DisplayName         string              `json:"display_name"`
	Default             bool                `json:"default"`
	KubespawnerOverride KubespawnerOverride `json:"kubespawner_override"`
}

// UnlistedChoice lets a person type an image the dropdown does not list;
// KubeSpawner checks it against ValidationRegex.
type UnlistedChoice struct {
	Enabled              bool                `json:"enabled"`
	DisplayName          string              `json:"display_name"`
	DisplayNameInChoices string              `json:"display_name_in_choices"`
	ValidationRegex      string              `json:"validation_regex"`
	ValidationMessage    string              `json:"validation_message"`
	KubespawnerOverride  KubespawnerOverride `json:"kubespawner_override"`
}

// AllowedImages is GET /api/v1/hub/images: DockerSpawner allowed_images,
// display name → image pinned by digest, in the order to list them.
type AllowedImages = Ordered[string]

// Ordered is a JSON object that keeps its keys in order: hubs list
// choices in the order of the object, and Go maps would sort them.
type Ordered[V any] []Keyed[V]

// Keyed is one member of an Ordered object.
type Keyed[V any] struct {
	Key   string
	Value V
}

// MarshalJSON writes the members in order.
func (o Ordered[V]) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(kv.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(kv.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object's members in document order.
func (o *Ordered[V]) UnmarshalJSON(raw []byte) error {
	if string(raw) == "null" { // as encoding/json leaves a map
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("api: want a JSON object, got %.40s", raw)
	}
	out := Ordered[V]{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		kv := Keyed[V]{Key: tok.(string)}
		if err := dec.Decode(&kv.Value); err != nil {
			return err
		}
		out = append(out, kv)
	}
	*o = out
	return nil
}
