package library

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
)

func (l *Library) routes() *http.ServeMux {
	mux := http.NewServeMux()
	handle := func(pattern string, h handlerFunc) { mux.HandleFunc(pattern, l.serve(h)) }
	handle("GET /version", l.version)
	handle("GET /assets/config/config.prod.json", l.config)
	handle("GET /v1/token-status", l.tokenStatus)
	handle("GET /v1/entities/{path...}", l.getEntity)
	handle("POST /v1/entities", l.createEntity)
	handle("GET /v1/collections/{path...}", l.getCollection)
	handle("POST /v1/collections", l.createCollection)
	handle("GET /v1/containers/{path...}", l.getContainer)
	handle("POST /v1/containers", l.createContainer)
	handle("GET /v1/images/{ref...}", l.getImage)
	handle("POST /v1/images", l.createImage)
	handle("DELETE /v1/images/{ref...}", l.deleteImage)
	handle("GET /v1/tags/{id}", l.getTags)
	handle("POST /v1/tags/{id}", l.setTag)
	handle("GET /v2/tags/{id}", l.getArchTags)
	handle("POST /v2/tags/{id}", l.setArchTag)
	handle("GET /v1/imagefile/{ref...}", l.pull)
	handle("GET /v1/search", l.searchImages)
	l.uploadRoutes(handle)
	mux.HandleFunc("/", l.serve(func(w http.ResponseWriter, r *http.Request) error {
		return &apiError{http.StatusNotFound, "the Library API has no endpoint " + r.Method + " " + r.URL.Path}
	}))
	return mux
}

func (l *Library) version(w http.ResponseWriter, r *http.Request) error {
	return respond(w, map[string]string{"version": "oyster", "apiVersion": APIVersion})
}

// config is the discovery document `apptainer remote add` reads: every
// service this server offers is on this server.
func (l *Library) config(w http.ResponseWriter, r *http.Request) error {
	base := map[string]string{"uri": l.baseURL(r)}
	writeJSON(w, http.StatusOK, map[string]any{"libraryAPI": base, "tokenAPI": base})
	return nil
}

// tokenStatus answers for the token mode in force: Oyster checks no
// tokens yet, so every caller, with a token or not, is served.
func (l *Library) tokenStatus(w http.ResponseWriter, r *http.Request) error {
	return respond(w, map[string]string{"status": "valid", "message": "this registry checks no tokens: every request is anonymous"})
}

// namespaces are the entities, collections and containers that exist:
// those the repositories' names hold and those created through the API.
type namespaces map[string]bool

func (l *Library) namespaces(ctx context.Context) (namespaces, error) {
	repos, err := l.reg.repositories(ctx)
	if err != nil {
		return nil, err
	}
	ns := namespaces{}
	for _, repo := range repos {
		if segs := strings.Split(repo, "/"); len(segs) == 3 {
			ns.add(segs)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for p := range l.created {
		ns[p] = true
	}
	return ns, nil
}

func (ns namespaces) add(segs []string) {
	for i := range segs {
		ns[strings.Join(segs[:i+1], "/")] = true
	}
}

// children lists the IDs of the namespaces directly below path, sorted.
func (ns namespaces) children(path string) []string {
	out := []string{}
	depth := strings.Count(path, "/") + 1
	for p := range ns {
		if strings.HasPrefix(p, path+"/") && strings.Count(p, "/") == depth {
			out = append(out, strings.ReplaceAll(p, "/", idSeparator))
		}
	}
	slices.Sort(out)
	return out
}

// lookup parses a path of n segments and checks it exists; it returns
// the namespaces it listed, nil for a container found by its tags.
func (l *Library) lookup(ctx context.Context, path string, n int, what string) ([]string, namespaces, error) {
	segs, err := parsePath(path, n, n)
	if err != nil {
		return nil, nil, err
	}
	if n == 3 { // a container with tags exists: no need to list them all
		if tags, err := l.reg.tags(ctx, path); err != nil || len(tags) > 0 {
			return segs, nil, err
		}
	}
	ns, err := l.namespaces(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !ns[path] {
		return nil, nil, notFound("%s %s not found", what, path)
	}
	return segs, ns, nil
}

func (l *Library) getEntity(w http.ResponseWriter, r *http.Request) error {
	segs, ns, err := l.lookup(r.Context(), r.PathValue("path"), 1, "entity")
	if err != nil {
		return err
	}
	return respond(w, entityOf(segs, ns))
}

func entityOf(segs []string, ns namespaces) entity {
	return entity{ID: pathID(segs...), Name: segs[0], Collections: ns.children(segs[0])}
}

func (l *Library) getCollection(w http.ResponseWriter, r *http.Request) error {
	segs, ns, err := l.lookup(r.Context(), r.PathValue("path"), 2, "collection")
	if err != nil {
		return err
	}
	return respond(w, collectionOf(segs, ns))
}

func collectionOf(segs []string, ns namespaces) collection {
	return collection{ID: pathID(segs...), Name: segs[1], Entity: segs[0], EntityName: segs[0], Containers: ns.children(strings.Join(segs, "/"))}
}

func (l *Library) getContainer(w http.ResponseWriter, r *http.Request) error {
	segs, _, err := l.lookup(r.Context(), r.PathValue("path"), 3, "container")
	if err != nil {
		return err
	}
	c, err := l.containerOf(r.Context(), segs)
	if err != nil {
		return err
	}
	return respond(w, c)
}

// containerOf describes a container with its images and tags.
func (l *Library) containerOf(ctx context.Context, segs []string) (container, error) {
	repo := strings.Join(segs, "/")
	c := container{
		ID: pathID(segs...), Name: segs[2], Collection: pathID(segs[:2]...), CollectionName: segs[1],
		Entity: segs[0], EntityName: segs[0], Images: []string{}, ImageTags: map[string]string{}, ArchTags: map[string]map[string]string{},
	}
	tags, err := l.reg.tags(ctx, repo)
	if err != nil {
		return c, err
	}
	for _, tag := range tags {
		imgs, err := l.tagImages(ctx, repo, tag)
		if err != nil {
			return c, err
		}
		for _, img := range imgs {
			id := imageID(repo, img.sif.Digest)
			if !slices.Contains(c.Images, id) {
				c.Images = append(c.Images, id)
			}
			if c.ArchTags[img.arch] == nil {
				c.ArchTags[img.arch] = map[string]string{}
			}
			c.ArchTags[img.arch][tag] = id
			c.ImageTags[tag] = id
		}
	}
	return c, nil
}

// create is the body of POST /v1/entities, /v1/collections and
// /v1/containers: a name and the ID of the parent.
type create struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Entity      string `json:"entity"`
	Collection  string `json:"collection"`
}

// createNamespace records path (parent's segments and name) as created,
// once the parent exists.
func (l *Library) createNamespace(ctx context.Context, parent []string, name string) ([]string, namespaces, error) {
	segs := append(slices.Clone(parent), name)
	if _, err := parsePath(strings.Join(segs, "/"), len(segs), len(segs)); err != nil {
		return nil, nil, err
	}
	ns, err := l.namespaces(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(parent) > 0 && !ns[strings.Join(parent, "/")] {
		return nil, nil, notFound("%s not found: create it first", strings.Join(parent, "/"))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	path := strings.Join(segs, "/")
	l.created[path] = true
	ns[path] = true
	return segs, ns, nil
}

func (l *Library) createEntity(w http.ResponseWriter, r *http.Request) error {
	var c create
	if err := readJSON(r, &c); err != nil {
		return err
	}
	segs, ns, err := l.createNamespace(r.Context(), nil, c.Name)
	if err != nil {
		return err
	}
	return respond(w, entityOf(segs, ns))
}

func (l *Library) createCollection(w http.ResponseWriter, r *http.Request) error {
	var c create
	if err := readJSON(r, &c); err != nil {
		return err
	}
	parent, err := parseID(c.Entity, 1, "entity")
	if err != nil {
		return err
	}
	segs, ns, err := l.createNamespace(r.Context(), parent, c.Name)
	if err != nil {
		return err
	}
	return respond(w, collectionOf(segs, ns))
}

func (l *Library) createContainer(w http.ResponseWriter, r *http.Request) error {
	var c create
	if err := readJSON(r, &c); err != nil {
		return err
	}
	parent, err := parseID(c.Collection, 2, "collection")
	if err != nil {
		return err
	}
	segs, _, err := l.createNamespace(r.Context(), parent, c.Name)
	if err != nil {
		return err
	}
	ct, err := l.containerOf(r.Context(), segs)
	if err != nil {
		return err
	}
	return respond(w, ct)
}

// imageOf is the Library API's view of a stored SIF image.
func imageOf(img sifImage, tags []string) image {
	segs := strings.Split(img.repo, "/")
	im := image{
		ID: imageID(img.repo, img.sif.Digest), Hash: libraryHash(img.sif.Digest), Description: img.description,
		Container: strings.Join(segs, idSeparator), ContainerName: segs[len(segs)-1],
		Size: img.sif.Size, Uploaded: true, Signed: new(bool), Tags: tags,
	}
	if img.arch != "" {
		im.Architecture = &img.arch
	}
	if len(segs) >= 2 {
		im.CollectionName = segs[len(segs)-2]
		im.Collection = strings.Join(segs[:len(segs)-1], idSeparator)
	}
	if len(segs) == 3 {
		im.EntityName, im.Entity = segs[0], segs[0]
	}
	return im
}

func (l *Library) getImage(w http.ResponseWriter, r *http.Request) error {
	ref, err := parseRef(r.PathValue("ref"))
	if err != nil {
		return err
	}
	img, err := l.resolve(r.Context(), ref, r.URL.Query().Get("arch"))
	if err != nil {
		return err
	}
	var tags []string
	if ref.tag != "" {
		tags = []string{ref.tag}
	}
	return respond(w, imageOf(img, tags))
}

// createImage answers POST /v1/images, which announces an upload: the
// image is stored and visible only once uploaded and tagged.
func (l *Library) createImage(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Hash        string `json:"hash"`
		Container   string `json:"container"`
		Description string `json:"description"`
	}
	if err := readJSON(r, &body); err != nil {
		return err
	}
	if !hashPattern.MatchString(body.Hash) {
		return badRequest("image hash %q is not sha256.<64 hex digits>", body.Hash)
	}
	segs, err := parseID(body.Container, 3, "container")
	if err != nil {
		return err
	}
	repo := strings.Join(segs, "/")
	if _, _, err := l.lookup(r.Context(), repo, 3, "container"); err != nil {
		return err
	}
	d := hashDigest(body.Hash)
	size, err := l.reg.blobSize(r.Context(), repo, d)
	if err != nil {
		return err
	}
	return respond(w, image{
		ID: imageID(repo, d), Hash: body.Hash, Description: body.Description, Container: body.Container,
		ContainerName: segs[2], Size: max(size, 0), Uploaded: size >= 0,
	})
}

// deleteImage deletes an image: by tag, the tag's image for arch; by
// hash, every tag of the image for arch.
func (l *Library) deleteImage(w http.ResponseWriter, r *http.Request) error {
	ref, err := parseRef(r.PathValue("ref"))
	if err != nil {
		return err
	}
	arch := r.URL.Query().Get("arch")
	img, err := l.resolve(r.Context(), ref, arch)
	if err != nil {
		return err
	}
	tags := []string{ref.tag}
	if ref.hash != "" {
		if tags, err = l.tagsOf(r.Context(), img.repo, img.sif.Digest); err != nil {
			return err
		}
	}
	for _, tag := range tags {
		if err := l.untagArch(r.Context(), img.repo, tag, img.arch); err != nil {
			return err
		}
	}
	return respond(w, struct{}{})
}

// tagsOf lists the tags of repo that hold the SIF d.
func (l *Library) tagsOf(ctx context.Context, repo string, d digest.Digest) ([]string, error) {
	all, err := l.reg.tags(ctx, repo)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, tag := range all {
		imgs, err := l.tagImages(ctx, repo, tag)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(imgs, func(i sifImage) bool { return i.sif.Digest == d }) {
			out = append(out, tag)
		}
	}
	return out, nil
}

// containerRepo reads a container ID from the path and checks it exists.
func (l *Library) containerRepo(r *http.Request) ([]string, error) {
	segs, err := parseID(r.PathValue("id"), 3, "container")
	if err != nil {
		return nil, err
	}
	if _, _, err := l.lookup(r.Context(), strings.Join(segs, "/"), 3, "container"); err != nil {
		return nil, err
	}
	return segs, nil
}

func (l *Library) getTags(w http.ResponseWriter, r *http.Request) error {
	segs, err := l.containerRepo(r)
	if err != nil {
		return err
	}
	c, err := l.containerOf(r.Context(), segs)
	if err != nil {
		return err
	}
	return respond(w, c.ImageTags)
}

func (l *Library) getArchTags(w http.ResponseWriter, r *http.Request) error {
	segs, err := l.containerRepo(r)
	if err != nil {
		return err
	}
	c, err := l.containerOf(r.Context(), segs)
	if err != nil {
		return err
	}
	return respond(w, c.ArchTags)
}

func (l *Library) setTag(w http.ResponseWriter, r *http.Request) error {
	return l.setTagOf(w, r, false)
}

func (l *Library) setArchTag(w http.ResponseWriter, r *http.Request) error {
	return l.setTagOf(w, r, true)
}

// setTagOf points a tag at an uploaded image; the v1 form carries no
// architecture and records none.
func (l *Library) setTagOf(w http.ResponseWriter, r *http.Request, withArch bool) error {
	segs, err := l.containerRepo(r)
	if err != nil {
		return err
	}
	var t archTag
	if err := readJSON(r, &t); err != nil {
		return err
	}
	if !withArch {
		t.Arch = ""
	} else if !part.MatchString(t.Arch) {
		return badRequest("architecture %q is not valid", t.Arch)
	}
	if !tagPattern.MatchString(t.Tag) || len(t.Tag) > 128 {
		return badRequest("%q is not a valid tag", t.Tag)
	}
	repo, d, err := parseImageID(t.ImageID)
	if err != nil {
		return err
	}
	if repo != strings.Join(segs, "/") {
		return badRequest("image %s is not in container %s", t.ImageID, r.PathValue("id"))
	}
	if err := l.tagImage(r.Context(), repo, t.Tag, t.Arch, d); err != nil {
		return err
	}
	return respond(w, struct{}{})
}

// pull answers GET /v1/imagefile/<ref>?arch= with a redirect to the SIF's
// blob on /v2/, which serves Range requests: the client library then
// downloads it in parts, concurrently, or follows the redirect in one
// stream. The redirect counts as the pull.
func (l *Library) pull(w http.ResponseWriter, r *http.Request) error {
	ref, err := parseRef(r.PathValue("ref"))
	if err != nil {
		return err
	}
	img, err := l.resolve(r.Context(), ref, r.URL.Query().Get("arch"))
	if err != nil {
		return err
	}
	if l.pulled != nil {
		l.pulled(img.repo, img.manifest.Digest)
	}
	http.Redirect(w, r, l.baseURL(r)+"/v2/"+img.repo+"/blobs/"+img.sif.Digest.String(), http.StatusSeeOther)
	return nil
}
