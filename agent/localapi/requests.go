package localapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// RequestAgent is what the 我要反映 endpoints need from the core.
type RequestAgent interface {
	RequestMenu() apitype.RequestMenu
	SubmitRequest(ctx context.Context, req apitype.RequestSubmit) (apitype.RequestReceipt, error)
	CheckRequest(number string, proof apitype.RequestProof) (apitype.Request, error)
	RequestsByCard(token string) (apitype.Requests, error)
}

func (s *server) serveRequestMenu(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.agent.RequestMenu())
}

// serveSubmitRequest answers 201 only once the request's record and its
// local status are committed.
func (s *server) serveSubmitRequest(w http.ResponseWriter, r *http.Request) {
	var req apitype.RequestSubmit
	if apiErr := decodeBody(w, r, &req); apiErr != nil {
		writeError(w, http.StatusBadRequest, *apiErr)
		return
	}
	out, err := s.agent.SubmitRequest(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

// serveCheckRequest is POST /v1/requests/{number}/check with the proof
// in the body (apitype.RequestProof): never in a URL, which clients and
// proxies print in their errors and logs.
func (s *server) serveCheckRequest(w http.ResponseWriter, r *http.Request) {
	var proof apitype.RequestProof
	if apiErr := decodeBody(w, r, &proof); apiErr != nil {
		writeError(w, http.StatusBadRequest, *apiErr)
		return
	}
	out, err := s.agent.CheckRequest(r.PathValue("number"), proof)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// serveRequestsByCard is POST /v1/requests/by-card with {"card": TOKEN}.
func (s *server) serveRequestsByCard(w http.ResponseWriter, r *http.Request) {
	var proof apitype.RequestProof
	if apiErr := decodeBody(w, r, &proof); apiErr != nil {
		writeError(w, http.StatusBadRequest, *apiErr)
		return
	}
	if proof.Phone4 != "" || proof.Code != "" {
		writeError(w, http.StatusBadRequest, apitype.Error{Code: apitype.CodeInvalid, Field: "proof", Message: "only card lists requests"})
		return
	}
	out, err := s.agent.RequestsByCard(proof.Card)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// requestError answers the errors of a request's check.
func requestError(w http.ResponseWriter, err error) bool {
	switch {
	case errors.Is(err, core.ErrNoMatch):
		writeError(w, http.StatusNotFound, apitype.Error{Code: apitype.CodeNoMatch,
			Message: "no request with that number matches: check the number and the card, phone digits or code"})
	case errors.Is(err, core.ErrRequestSecretLost):
		writeError(w, http.StatusGone, apitype.Error{Code: apitype.CodeUncheckable, Field: "number",
			Message: "this kiosk can no longer check requests made before its request secret was lost; the village office can"})
	case errors.Is(err, core.ErrCheckLocked):
		writeError(w, http.StatusTooManyRequests, apitype.Error{Code: apitype.CodeLocked, Field: "number", Message: err.Error()})
	default:
		return false
	}
	return true
}
