package library

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/oyster-registry/oyster/auth"
)

// namespaces are the entities, collections and containers that exist:
// those the repositories' names hold and those created through the API,
// as far as the caller may pull them.
type namespaces map[string]bool

func (l *Library) namespaces(ctx context.Context) (namespaces, error) {
	repos, err := l.reg.repositories(ctx)
	if err != nil {
		return nil, err
	}
	ns := namespaces{}
	for _, repo := range repos {
		if segs := strings.Split(repo, "/"); len(segs) == 3 && l.mayPull(ctx, repo) {
			ns.add(segs)
		}
	}
	for _, p := range l.created.all() {
		if l.mayPull(ctx, p) {
			ns[p] = true
		}
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

// lookup parses a path of n segments and checks the caller may pull it
// and it exists; it returns the namespaces it listed, nil for a container
// found by its tags.
func (l *Library) lookup(ctx context.Context, path string, n int, what string) ([]string, namespaces, error) {
	segs, err := parsePath(path, n, n)
	if err != nil {
		return nil, nil, err
	}
	if !l.mayPull(ctx, path) {
		return nil, nil, refusal(ctx, "reading "+what+" "+path)
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

// listEntities lists every entity, each with its collections' IDs.
func (l *Library) listEntities(w http.ResponseWriter, r *http.Request) error {
	ns, err := l.namespaces(r.Context())
	if err != nil {
		return err
	}
	out := []entity{}
	for p := range ns {
		if !strings.Contains(p, "/") {
			out = append(out, entityOf([]string{p}, ns))
		}
	}
	slices.SortFunc(out, func(a, b entity) int { return strings.Compare(a.Name, b.Name) })
	return respond(w, out)
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
	path := strings.Join(segs, "/")
	if _, err := parsePath(path, len(segs), len(segs)); err != nil {
		return nil, nil, err
	}
	if !l.may(ctx, auth.ActionPush, path) {
		return nil, nil, refusal(ctx, "creating "+path)
	}
	ns, err := l.namespaces(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(parent) > 0 && !ns[strings.Join(parent, "/")] {
		return nil, nil, notFound("%s not found: create it first", strings.Join(parent, "/"))
	}
	if err := l.created.add(path); err != nil {
		return nil, nil, err
	}
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
