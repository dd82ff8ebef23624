package localapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/points"
)

// PointsAgent is what the 美德银行 endpoints need from the core.
type PointsAgent interface {
	Points(ctx context.Context) (apitype.Points, error)
	PointsByCard(ctx context.Context, token string) (apitype.PointsAccount, error)
	PointsView(ctx context.Context, view string) (apitype.PointsAccount, error)
	EndPointsView(view string)
}

// servePoints is GET /v1/points: the public part, for anyone at the
// screen.
func (s *server) servePoints(w http.ResponseWriter, r *http.Request) {
	out, err := s.agent.Points(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// servePointsByCard is POST /v1/points/by-card with {"card": TOKEN}: in a
// body, never a URL.
func (s *server) servePointsByCard(w http.ResponseWriter, r *http.Request) {
	var in apitype.PointsByCard
	if apiErr := decodeBody(w, r, &in); apiErr != nil {
		writeError(w, http.StatusBadRequest, *apiErr)
		return
	}
	out, err := s.agent.PointsByCard(r.Context(), in.Card)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// servePointsView is POST /v1/points/view with {"view": HANDLE}.
func (s *server) servePointsView(w http.ResponseWriter, r *http.Request) {
	var in apitype.PointsView
	if apiErr := decodeBody(w, r, &in); apiErr != nil {
		writeError(w, http.StatusBadRequest, *apiErr)
		return
	}
	out, err := s.agent.PointsView(r.Context(), in.View)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// serveEndPointsView is POST /v1/points/view/end with {"view": HANDLE}:
// the screen left the account, so the handle reads nothing more. 204
// whether or not kioskd still knew it: the answer says nothing of it.
func (s *server) serveEndPointsView(w http.ResponseWriter, r *http.Request) {
	var in apitype.PointsView
	if apiErr := decodeBody(w, r, &in); apiErr != nil {
		writeError(w, http.StatusBadRequest, *apiErr)
		return
	}
	s.agent.EndPointsView(in.View)
	w.WriteHeader(http.StatusNoContent)
}

// pointsError answers the errors of the points endpoints.
func pointsError(w http.ResponseWriter, err error) bool {
	switch {
	case errors.Is(err, points.ErrNoView):
		writeError(w, http.StatusNotFound, apitype.Error{Code: apitype.CodeNotFound, Field: "view",
			Message: "the account view has expired or another card was tapped: tap the card again"})
	case errors.Is(err, points.ErrNoKey), errors.Is(err, core.ErrNoPoints):
		writeError(w, http.StatusConflict, apitype.Error{Code: apitype.CodePointsUnavailable,
			Message: "this kiosk cannot look up points accounts (no points key); the village office can"})
	case errors.Is(err, points.ErrLoading):
		writeError(w, http.StatusServiceUnavailable, apitype.Error{Code: apitype.CodeStorage,
			Message: "the points ledger is still loading; try again in a moment"})
	default:
		return false
	}
	return true
}
