package localclient

import (
	"context"
	"net/http"
	"net/url"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// BookMediation books a mediation for a villager. It returns only once
// kioskd has committed the record and opened the case.
func (c *Client) BookMediation(ctx context.Context, req apitype.MediationRequest) (apitype.Mediation, error) {
	var m apitype.Mediation
	return m, c.do(ctx, http.MethodPost, "/v1/mediations", req, http.StatusCreated, &m)
}

// MediatorSignIn signs a mediator in with the token of the card just read
// and their PIN. The session's token goes to every other mediator method.
func (c *Client) MediatorSignIn(ctx context.Context, card, pin string) (apitype.MediatorSession, error) {
	var s apitype.MediatorSession
	return s, c.do(ctx, http.MethodPost, "/v1/mediator/signin", apitype.MediatorSignIn{Card: card, PIN: pin}, http.StatusOK, &s)
}

// MediatorSignOut ends a mediator session.
func (c *Client) MediatorSignOut(ctx context.Context, token string) error {
	return c.send(ctx, http.MethodPost, "/v1/mediator/signout", token, nil, http.StatusNoContent, nil)
}

// Cases lists the kiosk's mediation cases, most recent first.
func (c *Client) Cases(ctx context.Context, token string) (apitype.Cases, error) {
	var cs apitype.Cases
	return cs, c.send(ctx, http.MethodGet, "/v1/mediator/cases", token, nil, http.StatusOK, &cs)
}

// Case returns one case in full.
func (c *Client) Case(ctx context.Context, token, id string) (apitype.Case, error) {
	var k apitype.Case
	return k, c.send(ctx, http.MethodGet, "/v1/mediator/cases/"+url.PathEscape(id), token, nil, http.StatusOK, &k)
}

// NewCase opens a walk-in case.
func (c *Client) NewCase(ctx context.Context, token string, req apitype.NewCase) (apitype.Case, error) {
	var k apitype.Case
	return k, c.send(ctx, http.MethodPost, "/v1/mediator/cases", token, req, http.StatusCreated, &k)
}

// LogSession records a session held on a case. It returns only once the
// session record (and an escalation, if the session needs one) is committed.
func (c *Client) LogSession(ctx context.Context, token, caseID string, req apitype.SessionRequest) (apitype.Session, error) {
	var s apitype.Session
	return s, c.send(ctx, http.MethodPost, "/v1/mediator/cases/"+url.PathEscape(caseID)+"/sessions", token, req, http.StatusCreated, &s)
}

// Phrases returns the preset session-summary phrases.
func (c *Client) Phrases(ctx context.Context, token string) (apitype.Phrases, error) {
	var p apitype.Phrases
	return p, c.send(ctx, http.MethodGet, "/v1/mediator/phrases", token, nil, http.StatusOK, &p)
}

// HoldCard keeps the card just read (its token) for the signed-in
// mediator, so that a session or case saved later may name it even after
// other cards have been read.
func (c *Client) HoldCard(ctx context.Context, token, card string) (apitype.CardSummary, error) {
	var h apitype.CardSummary
	return h, c.send(ctx, http.MethodPost, "/v1/mediator/cards", token, apitype.HoldCard{Card: card}, http.StatusOK, &h)
}

// Photo takes the photo of session on case caseID, which the parties
// agreed to on screen (consent must be true).
func (c *Client) Photo(ctx context.Context, token, caseID string, req apitype.PhotoRequest) (apitype.Photo, error) {
	var p apitype.Photo
	return p, c.send(ctx, http.MethodPost, "/v1/mediator/cases/"+url.PathEscape(caseID)+"/photos", token, req, http.StatusCreated, &p)
}

// FollowUps lists the follow-up visits not yet done.
func (c *Client) FollowUps(ctx context.Context, token string) (apitype.FollowUps, error) {
	var f apitype.FollowUps
	return f, c.send(ctx, http.MethodGet, "/v1/mediator/followups", token, nil, http.StatusOK, &f)
}

// FollowUpDone marks a case's next due follow-up visit done.
func (c *Client) FollowUpDone(ctx context.Context, token, caseID string, req apitype.FollowUpDone) (apitype.FollowUp, error) {
	var f apitype.FollowUp
	return f, c.send(ctx, http.MethodPost, "/v1/mediator/cases/"+url.PathEscape(caseID)+"/followups", token, req, http.StatusOK, &f)
}

// Indicators returns the kiosk's mediation indicators.
func (c *Client) Indicators(ctx context.Context, token string) (apitype.Indicators, error) {
	var i apitype.Indicators
	return i, c.send(ctx, http.MethodGet, "/v1/mediator/indicators", token, nil, http.StatusOK, &i)
}

// SaveDraft keeps the signed-in mediator's unsaved session form on a case,
// for their next sign-in.
func (c *Client) SaveDraft(ctx context.Context, token, caseID string, f apitype.DraftForm) (apitype.SessionDraft, error) {
	var d apitype.SessionDraft
	return d, c.send(ctx, http.MethodPut, "/v1/mediator/drafts/"+url.PathEscape(caseID), token, f, http.StatusOK, &d)
}

// Drafts returns the signed-in mediator's kept drafts, most recent first.
func (c *Client) Drafts(ctx context.Context, token string) (apitype.SessionDrafts, error) {
	var ds apitype.SessionDrafts
	return ds, c.send(ctx, http.MethodGet, "/v1/mediator/drafts", token, nil, http.StatusOK, &ds)
}

// DeleteDraft drops the signed-in mediator's draft on a case.
func (c *Client) DeleteDraft(ctx context.Context, token, caseID string) error {
	return c.send(ctx, http.MethodDelete, "/v1/mediator/drafts/"+url.PathEscape(caseID), token, nil, http.StatusNoContent, nil)
}
