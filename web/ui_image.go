package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/stage"
)

// repoView is a repository's tags, newest first, with the newest image's
// title and description.
type repoView struct {
	frame
	Detail *api.RepositoryDetail
	Newest *catalog.Record
}

func (u *ui) repository(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	d, err := u.api.repositoryFound(viewerOf(r), name)
	if isNotFound(err) {
		u.message(w, r, http.StatusNotFound, "Repository not found", "There is no repository named "+strconv.Quote(name)+" in the catalog.")
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := repoView{frame: frame{Title: name, Page: "repository", Account: u.accountOf(r)}, Detail: d}
	if len(d.Tags) > 0 {
		if v.Newest, err = u.api.Store.Record(catalog.Ref{Repo: name, Digest: d.Tags[0].Digest}); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	u.render(w, http.StatusOK, "repository", "layout", v)
}

// imageView is everything the image page shows.
type imageView struct {
	frame
	Rec       *catalog.Record
	Pulls     int
	Tag       string // the tag in the tag form of the pull commands
	Commands  []pullCommand
	PlainHTTP bool
	Bases     []refLink
	Derived   []refLink
	Packages  packageTable
	// Staged lists the compute nodes holding the image, from their
	// stagers' inventories.
	Staged []stage.Placement
	// Recipe is the recipe an image built from Git was built from.
	Recipe *api.RecipeSource
	// Private marks an image not everyone may pull.
	Private bool
}

// refLink is a link to another image, labelled by tag when it has one.
type refLink struct {
	Label string
	URL   string
	Via   string
}

func (u *ui) image(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("ref")
	v := viewerOf(r)
	rec, err := u.api.lookup(v, ref)
	if isNotFound(err) {
		u.message(w, r, http.StatusNotFound, "Image not found", "There is no image "+strconv.Quote(ref)+" in the catalog.")
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	rec, pulls, err := u.api.detail(v, rec)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	plain := plainHTTP(r.TLS != nil, r.Header.Get("X-Forwarded-Proto"))
	page := imageView{
		frame: frame{Title: imageTitle(rec), Page: "image", Account: u.accountOf(r)},
		Rec:   rec, Pulls: int(pulls), Tag: displayTag(ref, rec), PlainHTTP: plain, Private: v.private(rec.Repository),
		Packages: newPackageTable(rec.Packages, r.URL.Query().Get("pkg")),
	}
	page.Commands = pullCommands(registryHost(r.Host), plain, rec, page.Tag)
	if u.stage != nil {
		digests := []digest.Digest{rec.Digest}
		for _, c := range rec.Children {
			digests = append(digests, c.Digest)
		}
		page.Staged = u.stage.Where(digests...)
	}
	page.Recipe = u.recipeOf(rec)
	if page.Bases, err = u.refLinks(rec.BaseImages); err == nil {
		page.Derived, err = u.refLinks(rec.DerivedImages)
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, http.StatusOK, "image", "layout", page)
}

// imageTitle is the image's own title, or its repository.
func imageTitle(rec *catalog.Record) string {
	if rec.OCI.Title != "" {
		return rec.OCI.Title
	}
	return rec.Repository
}

// displayTag is the tag the person asked for, or the image's first tag.
func displayTag(ref string, rec *catalog.Record) string {
	if !strings.Contains(ref, "@") {
		return ref[strings.LastIndex(ref, ":")+1:]
	}
	if len(rec.Tags) > 0 {
		return rec.Tags[0]
	}
	return ""
}

// refLinks labels related images, by tag when the catalog names one.
func (u *ui) refLinks(refs []catalog.ImageRef) ([]refLink, error) {
	refs, err := u.api.Store.NameTags(refs)
	if err != nil {
		return nil, err
	}
	out := make([]refLink, 0, len(refs))
	for _, ref := range refs {
		label := ref.Repository + "@" + shortDigest(ref.Digest.String())
		if ref.Tag != "" {
			label = ref.Repository + ":" + ref.Tag
		}
		out = append(out, refLink{Label: label, URL: imageURL(ref.Repository, ref.Digest.String()), Via: ref.Via})
	}
	return out, nil
}

// pullCommand is one client's pull command, pinned by digest, and the same
// by tag when the image has one.
type pullCommand struct {
	Tool   string
	Pinned string
	Tagged string
}

// pullCommands are the commands that fetch rec with the clients that can
// run it: container engines for images, apptainer and oras for SIF, oras
// for other artifacts. Over plain HTTP they carry each client's switch.
func pullCommands(host string, plain bool, rec *catalog.Record, tag string) []pullCommand {
	flag := func(f string) string {
		if plain {
			return f + " "
		}
		return ""
	}
	type form struct{ tool, prefix string }
	var forms []form
	switch rec.Kind {
	case catalog.KindSIF:
		forms = []form{{"Apptainer", "apptainer pull " + flag("--no-https") + "oras://"}, {"ORAS", "oras pull " + flag("--plain-http")}}
	case catalog.KindArtifact:
		forms = []form{{"ORAS", "oras pull " + flag("--plain-http")}}
	default:
		forms = []form{
			{"Docker", "docker pull "}, {"Podman", "podman pull " + flag("--tls-verify=false")},
			{"Apptainer", "apptainer pull " + flag("--no-https") + "docker://"},
		}
	}
	name := host + "/" + rec.Repository
	out := make([]pullCommand, 0, len(forms))
	for _, f := range forms {
		c := pullCommand{Tool: f.tool, Pinned: f.prefix + name + "@" + rec.Digest.String()}
		if tag != "" {
			c.Tagged = f.prefix + name + ":" + tag
		}
		out = append(out, c)
	}
	return out
}

// packageTable is the packages of an image; rows that do not match the
// ?pkg= filter are rendered hidden, so that the page's script can filter
// the same rows again as the person types.
type packageTable struct {
	Filter string
	Rows   []packageRow
	Shown  int
}

type packageRow struct {
	catalog.Package
	Hidden bool
}

func newPackageTable(pkgs []catalog.Package, filter string) packageTable {
	t := packageTable{Filter: filter, Rows: make([]packageRow, 0, len(pkgs))}
	want := strings.TrimSpace(filter)
	for _, p := range pkgs {
		hidden := !p.Matches(want, "")
		if !hidden {
			t.Shown++
		}
		t.Rows = append(t.Rows, packageRow{Package: p, Hidden: hidden})
	}
	return t
}
