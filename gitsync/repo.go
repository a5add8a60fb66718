package gitsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	git "github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// repo is a source's bare clone under the data directory, and the trees
// of its commits checked out for builds.
type repo struct {
	src   Source
	dir   string     // the bare clone
	trees string     // <trees>/<commit>: checked-out commits
	mu    sync.Mutex // the clone
	git   *git.Repository
	co    sync.Mutex // checkouts
}

func newRepo(src Source, dataDir string) *repo {
	return &repo{src: src, dir: filepath.Join(dataDir, "repos", src.Name), trees: filepath.Join(dataDir, "trees", src.Name)}
}

func (r *repo) remoteRef() plumbing.ReferenceName {
	return plumbing.NewRemoteReferenceName("origin", r.src.Branch)
}

// fetch brings the branch up to date (cloning first if needed) and
// returns its head commit.
func (r *repo) fetch(ctx context.Context) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	auth, err := r.src.auth()
	if err != nil {
		return "", err
	}
	if r.git == nil {
		if r.git, err = git.PlainOpen(r.dir); errors.Is(err, git.ErrRepositoryNotExists) {
			r.git, err = git.PlainInit(r.dir, true)
			if err == nil {
				_, err = r.git.CreateRemote(&gitconfig.RemoteConfig{Name: "origin", URLs: []string{r.src.URL}})
			}
		}
		if err != nil {
			r.git = nil
			return "", fmt.Errorf("opening the clone of %s: %w", r.src.Name, err)
		}
	}
	spec := gitconfig.RefSpec(fmt.Sprintf("+refs/heads/%s:%s", r.src.Branch, r.remoteRef()))
	err = r.git.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", RefSpecs: []gitconfig.RefSpec{spec}, Auth: auth, Force: true, Tags: git.NoTags})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return "", fmt.Errorf("fetching %s branch %s: %w", r.src.Name, r.src.Branch, err)
	}
	ref, err := r.git.Reference(r.remoteRef(), true)
	if err != nil {
		return "", fmt.Errorf("branch %s of %s: %w", r.src.Branch, r.src.Name, err)
	}
	return ref.Hash().String(), nil
}

// commit returns a fetched commit.
func (r *repo) commit(hash string) (*object.Commit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.git == nil {
		return nil, fmt.Errorf("%s is not fetched yet", r.src.Name)
	}
	return r.git.CommitObject(plumbing.NewHash(hash))
}

// changedPaths lists the paths that differ between before and after; all
// is true when before is unknown (a new branch, a force push past what was
// fetched, the first sync), and everything counts as changed.
func (r *repo) changedPaths(before, after string) (paths []string, all bool, err error) {
	to, err := r.commit(after)
	if err != nil {
		return nil, false, err
	}
	from, err := r.commit(before)
	if before == "" || strings.Trim(before, "0") == "" || err != nil {
		return nil, true, nil
	}
	fromTree, err := from.Tree()
	if err != nil {
		return nil, false, err
	}
	toTree, err := to.Tree()
	if err != nil {
		return nil, false, err
	}
	changes, err := object.DiffTree(fromTree, toTree)
	if err != nil {
		return nil, false, err
	}
	for _, c := range changes {
		for _, name := range []string{c.From.Name, c.To.Name} {
			if name != "" {
				paths = append(paths, name)
			}
		}
	}
	return paths, false, nil
}

// checkout writes the tree of commit under the trees directory (once) and
// returns its path. Symbolic links are written as links: the recipes
// package refuses those that leave the repository.
func (r *repo) checkout(hash string) (string, error) {
	r.co.Lock()
	defer r.co.Unlock()
	dir := filepath.Join(r.trees, hash)
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	c, err := r.commit(hash)
	if err != nil {
		return "", err
	}
	tree, err := c.Tree()
	if err != nil {
		return "", err
	}
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	err = tree.Files().ForEach(func(f *object.File) error { return writeFile(tmp, f) })
	if err == nil {
		err = os.MkdirAll(tmp, 0o755) // an empty tree
	}
	if err == nil {
		err = os.Rename(tmp, dir)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("checking out %s of %s: %w", hash, r.src.Name, err)
	}
	return dir, nil
}

func writeFile(root string, f *object.File) error {
	p := filepath.Join(root, filepath.FromSlash(f.Name))
	if !strings.HasPrefix(p, root+string(filepath.Separator)) {
		return fmt.Errorf("path %q leaves the tree", f.Name)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	rd, err := f.Reader()
	if err != nil {
		return err
	}
	defer rd.Close()
	if f.Mode == filemode.Symlink {
		target, err := io.ReadAll(rd)
		if err != nil {
			return err
		}
		return os.Symlink(string(target), p)
	}
	perm := os.FileMode(0o644)
	if f.Mode == filemode.Executable {
		perm = 0o755
	}
	out, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, rd); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
