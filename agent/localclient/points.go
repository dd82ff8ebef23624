package localclient

import (
	"context"
	"net/http"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// Points returns the public part of the village's 美德银行 ledger: this
// month's offers and the rules. Available is false before a ledger came.
func (c *Client) Points(ctx context.Context) (apitype.Points, error) {
	var p apitype.Points
	return p, c.do(ctx, http.MethodGet, "/v1/points", nil, http.StatusOK, &p)
}

// PointsByCard returns the account of the card just tapped (its token,
// sent in the body). A card without an account answers Found false.
func (c *Client) PointsByCard(ctx context.Context, card string) (apitype.PointsAccount, error) {
	var out apitype.PointsAccount
	return out, c.do(ctx, http.MethodPost, "/v1/points/by-card", apitype.PointsByCard{Card: card}, http.StatusOK, &out)
}

// EndPointsView tells kioskd the screen left the account its view handle
// reads, so the handle reads nothing more.
func (c *Client) EndPointsView(ctx context.Context, view string) error {
	return c.do(ctx, http.MethodPost, "/v1/points/view/end", apitype.PointsView{View: view}, http.StatusNoContent, nil)
}

// PointsView reads again the account a by-card answer's view handle
// names, from the ledger in force now: 404 not_found once it expired.
func (c *Client) PointsView(ctx context.Context, view string) (apitype.PointsAccount, error) {
	var out apitype.PointsAccount
	return out, c.do(ctx, http.MethodPost, "/v1/points/view", apitype.PointsView{View: view}, http.StatusOK, &out)
}
