package localclient

import (
	"context"
	"net/http"
	"net/url"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// RequestMenu returns what the 我要反映 screens offer: kinds, grid
// categories with their phrases, and the village's places.
func (c *Client) RequestMenu(ctx context.Context) (apitype.RequestMenu, error) {
	var m apitype.RequestMenu
	return m, c.do(ctx, http.MethodGet, "/v1/requests/menu", nil, http.StatusOK, &m)
}

// SubmitRequest makes a villager's request or report. It returns only once
// kioskd has committed it; an anonymous report's answer carries its check
// code, which is never given again.
func (c *Client) SubmitRequest(ctx context.Context, req apitype.RequestSubmit) (apitype.RequestReceipt, error) {
	var out apitype.RequestReceipt
	return out, c.do(ctx, http.MethodPost, "/v1/requests", req, http.StatusCreated, &out)
}

// CheckRequest returns the request numbered number, proved the villager's
// by one of proof's fields, sent in the body (never the URL): 404 no_match when it does not prove it (or
// there is no such request), 429 locked after too many misses.
func (c *Client) CheckRequest(ctx context.Context, number string, proof apitype.RequestProof) (apitype.Request, error) {
	var out apitype.Request
	return out, c.do(ctx, http.MethodPost, "/v1/requests/"+url.PathEscape(number)+"/check", proof, http.StatusOK, &out)
}

// RequestsByCard lists the requests made on this kiosk with the card just
// tapped (its token), newest first.
func (c *Client) RequestsByCard(ctx context.Context, card string) (apitype.Requests, error) {
	var out apitype.Requests
	return out, c.do(ctx, http.MethodPost, "/v1/requests/by-card", apitype.RequestProof{Card: card}, http.StatusOK, &out)
}
