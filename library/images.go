package library

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/auth"
)

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
	ref, img, err := l.requestedImage(r)
	if err != nil {
		return err
	}
	var tags []string
	if ref.tag != "" {
		tags = []string{ref.tag}
	}
	return respond(w, imageOf(img, tags))
}

// requestedImage resolves the image the path's ref and the ?arch= query
// name, if the caller may pull it.
func (l *Library) requestedImage(r *http.Request) (ref, sifImage, error) {
	rf, err := parseRef(r.PathValue("ref"))
	if err != nil {
		return ref{}, sifImage{}, err
	}
	if !l.mayPull(r.Context(), rf.repo) {
		return ref{}, sifImage{}, refusal(r.Context(), "reading "+rf.repo)
	}
	img, err := l.resolve(r.Context(), rf, r.URL.Query().Get("arch"))
	return rf, img, err
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
	if !l.may(r.Context(), auth.ActionPush, repo) {
		return refusal(r.Context(), "pushing to "+repo)
	}
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
	ref, img, err := l.requestedImage(r)
	if err != nil {
		return err
	}
	if !l.may(r.Context(), auth.ActionDelete, img.repo) {
		return refusal(r.Context(), "deleting from "+img.repo)
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

func (l *Library) getTags(w http.ResponseWriter, r *http.Request) error {
	c, err := l.pathContainer(r)
	if err != nil {
		return err
	}
	return respond(w, c.ImageTags)
}

func (l *Library) getArchTags(w http.ResponseWriter, r *http.Request) error {
	c, err := l.pathContainer(r)
	if err != nil {
		return err
	}
	return respond(w, c.ArchTags)
}

// pathContainer describes the container whose ID is in the path.
func (l *Library) pathContainer(r *http.Request) (container, error) {
	segs, err := l.containerRepo(r)
	if err != nil {
		return container{}, err
	}
	return l.containerOf(r.Context(), segs)
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
	if repo := strings.Join(segs, "/"); !l.may(r.Context(), auth.ActionPush, repo) {
		return refusal(r.Context(), "tagging in "+repo)
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

// pull answers GET /v1/imagefile/<ref>?arch= and counts the pull. With
// auth off it redirects to the SIF's blob on /v2/, which serves Range
// requests: the client library then downloads it in parts, concurrently.
// With auth on it serves the blob itself, fetched in process as the
// caller: the client would send its Library token to /v2/ after the
// redirect, and /v2/ takes registry tokens only.
func (l *Library) pull(w http.ResponseWriter, r *http.Request) error {
	_, img, err := l.requestedImage(r)
	if err != nil {
		return err
	}
	if l.pulled != nil {
		l.pulled(img.repo, img.manifest.Digest)
	}
	if l.auth != nil {
		return l.reg.serveBlob(w, r, img.repo, img.sif.Digest)
	}
	http.Redirect(w, r, l.baseURL(r)+"/v2/"+img.repo+"/blobs/"+img.sif.Digest.String(), http.StatusSeeOther)
	return nil
}
