// Package stage decides what each cluster's stagers should hold: images
// pinned by admins (configuration and API), images matching the
// configured catalog query, and images hub users selected lately. It also
// keeps what each stager last reported holding. Its small state (API pins,
// hub selections, inventories) is one JSON file, written atomically.
package stage

import (
	"github.com/oyster-registry/oyster/internal/atomicfile"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/search"
)

// Config is the registry configuration's stage section.
type Config struct {
	// Pins are repo:tag or repo@digest references every cluster stages and
	// never evicts.
	Pins []string
	// Query selects, in the catalog query language, images every cluster
	// stages; empty selects none.
	Query string
	// HubWindow is how long a hub selection keeps an image on the list.
	HubWindow time.Duration
}

// Searcher finds images for the query; *search.Index is one.
type Searcher interface {
	Search(ctx context.Context, req search.Request) (*search.Response, error)
}

// Planner answers staging lists and records pins, selections and
// inventories.
type Planner struct {
	store  catalog.Store
	search Searcher
	cfg    Config
	path   string
	now    func() time.Time

	mu    sync.Mutex
	state state
}

// state is what the JSON file holds.
type state struct {
	Pins       []api.StagePin                 `json:"pins"`
	Selections []selection                    `json:"selections"`
	Stagers    map[string]api.StagerInventory `json:"stagers"`
}

// selection is one image a hub user picked.
type selection struct {
	Ref  catalog.Ref `json:"ref"`
	Tag  string      `json:"tag,omitempty"`
	When time.Time   `json:"when"`
}

// maxSelections bounds the selections kept; the oldest go first.
const maxSelections = 10000

// Open loads the state file at path (missing: empty state).
func Open(path string, store catalog.Store, s Searcher, cfg Config) (*Planner, error) {
	p := &Planner{store: store, search: s, cfg: cfg, path: path, now: time.Now}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(b, &p.state); err != nil {
			return nil, fmt.Errorf("stage state %s: %w", path, err)
		}
	}
	if p.state.Stagers == nil {
		p.state.Stagers = map[string]api.StagerInventory{}
	}
	return p, nil
}

// ErrUnknownImage is returned for a reference the catalog does not know.
var ErrUnknownImage = errors.New("no such image in the catalog")

// ErrBadRef is returned for a reference that is not repo:tag or repo@digest.
var ErrBadRef = errors.New("reference must be repository:tag or repository@digest")

// List is cluster's staging list: pins first, then query matches, then
// hub selections newest first, each image once, and only images of
// repositories visible accepts (the stager's caller may pull them; nil:
// every image, as with auth off). A stager stages nothing it could not
// pull.
func (p *Planner) List(ctx context.Context, cluster string, visible func(repo string) bool) (api.StageList, error) {
	list := api.StageList{Cluster: cluster, Images: []api.StageImage{}}
	seen := map[digest.Digest]int{}
	add := func(im api.StageImage) {
		if visible != nil && !visible(im.Repository) {
			return
		}
		if i, ok := seen[im.Digest]; ok {
			list.Images[i].Pinned = list.Images[i].Pinned || im.Pinned
			return
		}
		seen[im.Digest] = len(list.Images)
		list.Images = append(list.Images, im)
	}
	p.mu.Lock()
	pins := slices.Clone(p.state.Pins)
	selections := slices.Clone(p.state.Selections)
	p.mu.Unlock()
	refs := slices.Clone(p.cfg.Pins)
	for _, pin := range pins {
		if pin.Cluster == "" || pin.Cluster == cluster {
			refs = append(refs, pin.Ref)
		}
	}
	for _, ref := range refs {
		im, err := p.resolve(ref)
		if errors.Is(err, ErrUnknownImage) {
			continue // pinned before it was pushed: listed once it is
		}
		if err != nil {
			return list, err
		}
		im.Reason, im.Pinned = api.StageReasonPinned, true
		add(im)
	}
	if err := p.queryMatches(ctx, add); err != nil {
		return list, err
	}
	since := p.now().Add(-p.cfg.HubWindow)
	for i := len(selections) - 1; i >= 0; i-- {
		if s := selections[i]; s.When.After(since) {
			add(api.StageImage{Ref: s.Ref.String(), Repository: s.Ref.Repo, Tag: s.Tag, Digest: s.Ref.Digest, Reason: api.StageReasonHub})
		}
	}
	return list, nil
}

// maxQueryImages bounds what the query adds to one list.
const maxQueryImages = 1000

func (p *Planner) queryMatches(ctx context.Context, add func(api.StageImage)) error {
	if strings.TrimSpace(p.cfg.Query) == "" {
		return nil
	}
	for page, n := 1, 0; n < maxQueryImages; page++ {
		resp, err := p.search.Search(ctx, search.Request{Query: p.cfg.Query, Sort: search.SortName, Page: page, PerPage: 100, NoFacets: true})
		if err != nil {
			return err
		}
		for _, h := range resp.Results {
			tag := ""
			if len(h.Tags) > 0 {
				tag = h.Tags[0]
			}
			add(api.StageImage{Ref: h.Repository + "@" + h.Digest, Repository: h.Repository, Tag: tag, Digest: digest.Digest(h.Digest), Reason: api.StageReasonQuery})
			n++
		}
		if len(resp.Results) == 0 || page*100 >= resp.Total {
			return nil
		}
	}
	return nil
}

// resolve turns repo:tag or repo@digest (optionally host-prefixed, as
// hubs send pinned images) into a listed image.
func (p *Planner) resolve(ref string) (api.StageImage, error) {
	ref = stripHost(ref)
	repo, dig, byDigest := strings.Cut(ref, "@")
	tag := ""
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo, tag = repo[:i], repo[i+1:]
	}
	if repo == "" || (!byDigest && tag == "") {
		return api.StageImage{}, fmt.Errorf("%w: %q", ErrBadRef, ref)
	}
	var d digest.Digest
	if byDigest {
		var err error
		if d, err = digest.Parse(dig); err != nil {
			return api.StageImage{}, fmt.Errorf("%w: %q: %v", ErrBadRef, ref, err)
		}
		rec, err := p.store.Record(catalog.Ref{Repo: repo, Digest: d})
		if err != nil {
			return api.StageImage{}, err
		}
		if rec == nil {
			return api.StageImage{}, fmt.Errorf("%w: %s", ErrUnknownImage, ref)
		}
	} else {
		var err error
		if d, err = p.store.Tag(repo, tag); err != nil {
			return api.StageImage{}, err
		}
		if d == "" {
			return api.StageImage{}, fmt.Errorf("%w: %s", ErrUnknownImage, ref)
		}
	}
	return api.StageImage{Ref: repo + "@" + d.String(), Repository: repo, Tag: tag, Digest: d}, nil
}

// stripHost drops a leading registry host: the first path component if it
// has a dot or a port, or is localhost.
func stripHost(ref string) string {
	if first, rest, ok := strings.Cut(ref, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return rest
	}
	return ref
}

// Pin adds an API pin; the image must exist.
func (p *Planner) Pin(pin api.StagePin) error {
	if _, err := p.resolve(pin.Ref); err != nil {
		return err
	}
	return p.update(func(s *state) {
		if !slices.Contains(s.Pins, pin) {
			s.Pins = append(s.Pins, pin)
		}
	})
}

// Unpin removes an API pin; ok is false if there was none.
func (p *Planner) Unpin(pin api.StagePin) (ok bool, err error) {
	err = p.update(func(s *state) {
		n := len(s.Pins)
		s.Pins = slices.DeleteFunc(s.Pins, func(q api.StagePin) bool { return q == pin })
		ok = len(s.Pins) < n
	})
	return ok, err
}

// Pins lists the API pins.
func (p *Planner) Pins() []api.StagePin {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]api.StagePin{}, p.state.Pins...)
}

// Select records that a hub user picked ref (as pinned hub images name
// it, host/repo@digest, or repo:tag). An image of a repository visible
// refuses (the caller may not pull it; nil: none) is ErrUnknownImage,
// as if it did not exist, and is not recorded.
func (p *Planner) Select(ref string, visible func(repo string) bool) (api.StageImage, error) {
	im, err := p.resolve(ref)
	if err == nil && visible != nil && !visible(im.Repository) {
		return api.StageImage{}, fmt.Errorf("%w: %s", ErrUnknownImage, ref)
	}
	if err != nil {
		return im, err
	}
	sel := selection{Ref: catalog.Ref{Repo: im.Repository, Digest: im.Digest}, Tag: im.Tag, When: p.now().UTC()}
	return im, p.update(func(s *state) {
		s.Selections = slices.DeleteFunc(s.Selections, func(o selection) bool { return o.Ref == sel.Ref })
		s.Selections = append(s.Selections, sel)
		if len(s.Selections) > maxSelections {
			s.Selections = s.Selections[len(s.Selections)-maxSelections:]
		}
	})
}

// Report keeps a stager's inventory.
func (p *Planner) Report(inv api.StagerInventory) error {
	inv.Reported = p.now().UTC()
	return p.update(func(s *state) { s.Stagers[inv.Node] = inv })
}

// Stagers lists the last inventory of every node, by name, each with
// only the images of repositories visible accepts (the caller may pull
// them; nil: all). A node's usage still counts every image it holds.
func (p *Planner) Stagers(visible func(repo string) bool) []api.StagerInventory {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]api.StagerInventory, 0, len(p.state.Stagers))
	for _, inv := range p.state.Stagers {
		if visible != nil {
			inv.Images = slices.DeleteFunc(slices.Clone(inv.Images), func(im api.StagedImage) bool { return !visible(im.Repository) })
		}
		out = append(out, inv)
	}
	slices.SortFunc(out, func(a, b api.StagerInventory) int { return strings.Compare(a.Node, b.Node) })
	return out
}

// Placement is one node holding an image (or, for an index, one of its
// platform manifests).
type Placement struct {
	Node, Cluster string
	Digest        digest.Digest
	Formats       []string
	LastUsed      time.Time
	Reported      time.Time
}

// Where lists the nodes whose last inventory holds one of digests, by
// node name: an image page asks with its digest and its children's.
func (p *Planner) Where(digests ...digest.Digest) []Placement {
	var out []Placement
	for _, inv := range p.Stagers(nil) { // the caller found the image: it may see where it is
		for _, im := range inv.Images {
			if slices.Contains(digests, im.Digest) {
				out = append(out, Placement{Node: inv.Node, Cluster: inv.Cluster, Digest: im.Digest, Formats: im.Formats,
					LastUsed: im.LastUsed, Reported: inv.Reported})
			}
		}
	}
	return out
}

// update changes the state and writes it: temporary file, fsync, rename.
// A failed write leaves the state as it was.
func (p *Planner) update(change func(*state)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	next := p.state.clone()
	change(&next)
	b, err := json.Marshal(next)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(p.path, b, 0o644); err != nil {
		return err
	}
	p.state = next
	return nil
}

func (s state) clone() state {
	c := state{Pins: slices.Clone(s.Pins), Selections: slices.Clone(s.Selections), Stagers: make(map[string]api.StagerInventory, len(s.Stagers))}
	for k, v := range s.Stagers {
		c.Stagers[k] = v
	}
	return c
}
