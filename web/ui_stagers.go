package web

import (
	"net/http"

	"github.com/oyster-registry/oyster/api"
)

// stagersView is the cluster view: every node's cache as its stager last
// reported it.
type stagersView struct {
	frame
	Stagers []api.StagerInventory
}

func (u *ui) stagers(w http.ResponseWriter, r *http.Request) {
	u.render(w, http.StatusOK, "stagers", "layout", stagersView{frame: frame{Title: "Compute nodes", Page: "stagers", Account: u.accountOf(r)}, Stagers: u.stage.Stagers(viewerOf(r).mayPull)})
}
