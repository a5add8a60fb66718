package server

import (
	"path"
	"strconv"

	"github.com/opencontainers/go-digest"
)

// Distribution's storage layout, as written by distribution v3.1.2
// (registry/storage/paths.go). Oyster reads and writes a few of its links
// directly (sha512 aliases, a manifest's push time); every such path is
// built here, so a change of distribution's layout is one file to follow.
//
//	/docker/registry/v2/
//	  blobs/<alg>/<first 2 hex>/<hex>/data                 content, shared by all repositories
//	  repositories/<name>/
//	    _layers/<alg>/<hex>/link                           "<digest>": a blob the repository holds
//	    _manifests/revisions/<alg>/<hex>/link              "<digest>": a manifest the repository holds
//	    _manifests/tags/<tag>/current/link                 the digest the tag names now
//	    _manifests/tags/<tag>/index/<alg>/<hex>/link       every digest the tag has named
//	    _uploads/<session>/{data,startedat,hashstates/…}   uploads in progress
//
// A link's content is a digest; distribution resolves a name through its
// link to the blob it holds, so a link under a sha512 name holding a sha256
// digest is an alias.
const repositoriesRoot = "/docker/registry/v2/repositories"

func layersDir(repo string, alg digest.Algorithm) string {
	return path.Join(repositoriesRoot, repo, "_layers", alg.String())
}

func layerLink(repo string, d digest.Digest) string {
	return path.Join(layersDir(repo, d.Algorithm()), d.Encoded(), "link")
}

func manifestRevisionsDir(repo string, alg digest.Algorithm) string {
	return path.Join(repositoriesRoot, repo, "_manifests", "revisions", alg.String())
}

func manifestRevisionLink(repo string, d digest.Digest) string {
	return path.Join(manifestRevisionsDir(repo, d.Algorithm()), d.Encoded(), "link")
}

func blobData(d digest.Digest) string {
	return path.Join("/docker/registry/v2/blobs", d.Algorithm().String(), d.Encoded()[:2], d.Encoded(), "data")
}

func uploadDir(repo, id string) string { return path.Join(repositoriesRoot, repo, "_uploads", id) }

func uploadData(repo, id string) string { return path.Join(uploadDir(repo, id), "data") }

func uploadStartedAt(repo, id string) string { return path.Join(uploadDir(repo, id), "startedat") }

// uploadHashState holds the hash's state after offset bytes, which lets
// distribution's commit verify the digest without reading the data again.
func uploadHashState(repo, id string, alg digest.Algorithm, offset int64) string {
	return path.Join(uploadDir(repo, id), "hashstates", alg.String(), strconv.FormatInt(offset, 10))
}
