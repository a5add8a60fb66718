package search

import "github.com/RoaringBitmap/roaring/v2"

// hiddenRepositories matches the documents of every repository visible
// refuses, so that a search removes them before anything is counted. It
// walks the repository dictionary of each segment, not the hits, and asks
// visible once per repository per search, however many segments and
// images hold it: a registry has far fewer repositories than images.
func hiddenRepositories(visible func(repo string) bool) matcher {
	seen := map[string]bool{}
	hidden := func(repo string) bool {
		ok, known := seen[repo]
		if !known {
			ok = visible(repo)
			seen[repo] = ok
		}
		return !ok
	}
	return matchFunc(func(v *segView) (*roaring.Bitmap, error) { return v.union(fRepo, "", hidden) })
}
