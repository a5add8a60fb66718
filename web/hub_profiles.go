package web

import (
	"fmt"
	"strings"

	"github.com/oyster-registry/oyster/api"
)

// Profile building: the choices as KubeSpawner and DockerSpawner read them.

// catalogSlug names the dropdown profile; image slugs end in 12 hex
// digits, so they never equal it.
const catalogSlug = "oyster-catalog"

func kubeProfiles(choices []hubChoice, host, mode string) api.Profiles {
	out := api.Profiles{}
	if len(choices) == 0 {
		return out
	}
	if mode != "only" {
		for _, c := range choices {
			out = append(out, api.Profile{DisplayName: c.Name, Description: c.Description, Slug: c.Slug,
				KubespawnerOverride: &api.KubespawnerOverride{Image: c.Image}})
		}
		out[0].Default = true
	}
	if mode == "1" || mode == "only" {
		out = append(out, catalogProfile(choices, host, mode == "only"))
	}
	return out
}

// catalogProfile offers every image in one dropdown, plus any other image
// of this registry pinned by digest (an image the hub query leaves out,
// or one pushed a moment ago).
func catalogProfile(choices []hubChoice, host string, isDefault bool) api.Profile {
	opts := make(api.Ordered[api.ProfileChoice], len(choices))
	for i, c := range choices {
		opts[i] = api.Keyed[api.ProfileChoice]{Key: c.Slug, Value: api.ProfileChoice{DisplayName: c.Name, Default: i == 0, KubespawnerOverride: api.KubespawnerOverride{Image: c.Image}}}
	}
	return api.Profile{
		DisplayName: "Image from the Oyster catalog",
		Description: fmt.Sprintf("Choose one of %d images from %s, or enter an image of this registry pinned by digest.", len(choices), host),
		Slug:        catalogSlug,
		Default:     isDefault,
		ProfileOptions: map[string]api.ProfileOption{"image": {
			DisplayName: "Image",
			Choices:     opts,
			UnlistedChoice: api.UnlistedChoice{
				Enabled:              true,
				DisplayName:          "Image pinned by digest",
				DisplayNameInChoices: "Other image of " + host + "…",
				ValidationRegex:      imageRegex(host),
				ValidationMessage:    "An image of " + host + " pinned by digest: " + host + "/repository@sha256:<64 hex digits>",
				KubespawnerOverride:  api.KubespawnerOverride{Image: "{value}"},
			},
		}},
	}
}

// repoComponent is one path component of distribution's repository-name
// grammar.
const repoComponent = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`

// imageRegex admits host/repository@sha256:<64 hex> and nothing else. It is
// read twice: by KubeSpawner with Python's re.match, and by the browser as
// the input's pattern attribute (JavaScript with the v flag). So it escapes
// only what both need escaped, keeps "-" out of character classes, and
// ends with $(?!\n) because Python's $ also matches before a final newline.
func imageRegex(host string) string {
	h := strings.NewReplacer(".", `\.`, "[", `\[`, "]", `\]`).Replace(host)
	return "^" + h + "/" + repoComponent + "(?:/" + repoComponent + `)*@sha256:[a-f0-9]{64}$(?!\n)`
}

// allowedImages is DockerSpawner's allowed_images: display name → pinned
// image, in the order of the choices.
func allowedImages(choices []hubChoice) api.AllowedImages {
	out := make(api.AllowedImages, len(choices))
	for i, c := range choices {
		out[i] = api.Keyed[string]{Key: c.Name, Value: c.Image}
	}
	return out
}
