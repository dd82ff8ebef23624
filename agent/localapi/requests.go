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

// serveCheckRequest is GET /v1/requests/{number}?card=|phone4=|code=. The
// proof is in the query, which kioskd never logs (fail logs the path).
func (s *server) serveCheckRequest(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out, err := s.agent.CheckRequest(r.PathValue("number"),
		apitype.RequestProof{Card: q.Get("card"), Phone4: q.Get("phone4"), Code: q.Get("code")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// serveRequestsByCard is GET /v1/requests?card=TOKEN.
func (s *server) serveRequestsByCard(w http.ResponseWriter, r *http.Request) {
	out, err := s.agent.RequestsByCard(r.URL.Query().Get("card"))
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
	case errors.Is(err, core.ErrCheckLocked):
		writeError(w, http.StatusTooManyRequests, apitype.Error{Code: apitype.CodeLocked, Field: "number", Message: err.Error()})
	default:
		return false
	}
	return true
}
