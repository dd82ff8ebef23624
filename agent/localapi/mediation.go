package localapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/fengqiao/kiosk/agent/casebook"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/mediatorauth"
)

// MediationAgent is what the API needs from the core for mediation
// bookings and mediator mode.
type MediationAgent interface {
	BookMediation(ctx context.Context, req apitype.MediationRequest) (apitype.Mediation, error)
	MediatorSignIn(req apitype.MediatorSignIn) (apitype.MediatorSession, error)
	MediatorCheck(token string) (apitype.Mediator, error)
	MediatorSignOut(token string)
	Cases() (apitype.Cases, error)
	Case(id string) (apitype.Case, error)
	NewCase(ctx context.Context, m apitype.Mediator, req apitype.NewCase) (apitype.Case, error)
	LogSession(ctx context.Context, m apitype.Mediator, caseID string, req apitype.SessionRequest) (apitype.Session, error)
	HoldCard(m apitype.Mediator, req apitype.HoldCard) (apitype.CardSummary, error)
	Photo(ctx context.Context, m apitype.Mediator, caseID string, req apitype.PhotoRequest) (apitype.Photo, error)
	Phrases() apitype.Phrases
	FollowUps() (apitype.FollowUps, error)
	FollowUpDone(m apitype.Mediator, caseID string, req apitype.FollowUpDone) (apitype.FollowUp, error)
	Indicators() (apitype.Indicators, error)
	SaveDraft(m apitype.Mediator, caseID string, f apitype.DraftForm) (apitype.SessionDraft, error)
	Drafts(m apitype.Mediator) (apitype.SessionDrafts, error)
	DeleteDraft(m apitype.Mediator, caseID string) error
}

// mediatorHandler is a handler that runs only for a signed-in mediator.
type mediatorHandler func(s *server, w http.ResponseWriter, r *http.Request, m apitype.Mediator, token string)

// signedIn refuses a request without a live mediator session (401) before
// anything of it is read, and slides the session's idle window otherwise.
func signedIn(h mediatorHandler) handlerFunc {
	return func(s *server, w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			token = ""
		}
		m, err := s.agent.MediatorCheck(token)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		h(s, w, r, m, token)
	}
}

func (s *server) serveBookMediation(w http.ResponseWriter, r *http.Request) {
	serveDecoded(s, w, r, http.StatusCreated, func(req apitype.MediationRequest) (any, error) {
		return s.agent.BookMediation(r.Context(), req)
	})
}

func (s *server) serveSignIn(w http.ResponseWriter, r *http.Request) {
	serveDecoded(s, w, r, http.StatusOK, func(req apitype.MediatorSignIn) (any, error) {
		return s.agent.MediatorSignIn(req)
	})
}

// serveDecoded decodes the body strictly into a T and answers with code what
// call returns, or the error.
func serveDecoded[T any](s *server, w http.ResponseWriter, r *http.Request, code int, call func(T) (any, error)) {
	var req T
	if apiErr := decodeBody(w, r, &req); apiErr != nil {
		writeError(w, http.StatusBadRequest, *apiErr)
		return
	}
	respond(s, w, r, code)(call(req))
}

func (s *server) serveSignOut(w http.ResponseWriter, r *http.Request, _ apitype.Mediator, token string) {
	s.agent.MediatorSignOut(token)
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) serveCases(w http.ResponseWriter, r *http.Request, _ apitype.Mediator, _ string) {
	respond(s, w, r, http.StatusOK)(s.agent.Cases())
}

func (s *server) serveCase(w http.ResponseWriter, r *http.Request, _ apitype.Mediator, _ string) {
	respond(s, w, r, http.StatusOK)(s.agent.Case(r.PathValue("id")))
}

func (s *server) serveNewCase(w http.ResponseWriter, r *http.Request, m apitype.Mediator, _ string) {
	serveDecoded(s, w, r, http.StatusCreated, func(req apitype.NewCase) (any, error) {
		return s.agent.NewCase(r.Context(), m, req)
	})
}

func (s *server) serveLogSession(w http.ResponseWriter, r *http.Request, m apitype.Mediator, _ string) {
	serveDecoded(s, w, r, http.StatusCreated, func(req apitype.SessionRequest) (any, error) {
		return s.agent.LogSession(r.Context(), m, r.PathValue("id"), req)
	})
}

func (s *server) serveHoldCard(w http.ResponseWriter, r *http.Request, m apitype.Mediator, _ string) {
	serveDecoded(s, w, r, http.StatusOK, func(req apitype.HoldCard) (any, error) {
		return s.agent.HoldCard(m, req)
	})
}

func (s *server) servePhoto(w http.ResponseWriter, r *http.Request, m apitype.Mediator, _ string) {
	serveDecoded(s, w, r, http.StatusCreated, func(req apitype.PhotoRequest) (any, error) {
		return s.agent.Photo(r.Context(), m, r.PathValue("id"), req)
	})
}

func (s *server) servePhrases(w http.ResponseWriter, r *http.Request, _ apitype.Mediator, _ string) {
	writeJSON(w, http.StatusOK, s.agent.Phrases())
}

func (s *server) serveFollowUps(w http.ResponseWriter, r *http.Request, _ apitype.Mediator, _ string) {
	respond(s, w, r, http.StatusOK)(s.agent.FollowUps())
}

func (s *server) serveFollowUpDone(w http.ResponseWriter, r *http.Request, m apitype.Mediator, _ string) {
	serveDecoded(s, w, r, http.StatusOK, func(req apitype.FollowUpDone) (any, error) {
		return s.agent.FollowUpDone(m, r.PathValue("id"), req)
	})
}

func (s *server) serveIndicators(w http.ResponseWriter, r *http.Request, _ apitype.Mediator, _ string) {
	respond(s, w, r, http.StatusOK)(s.agent.Indicators())
}

func (s *server) serveSaveDraft(w http.ResponseWriter, r *http.Request, m apitype.Mediator, _ string) {
	serveDecoded(s, w, r, http.StatusOK, func(f apitype.DraftForm) (any, error) {
		return s.agent.SaveDraft(m, r.PathValue("case"), f)
	})
}

func (s *server) serveDrafts(w http.ResponseWriter, r *http.Request, m apitype.Mediator, _ string) {
	respond(s, w, r, http.StatusOK)(s.agent.Drafts(m))
}

func (s *server) serveDeleteDraft(w http.ResponseWriter, r *http.Request, m apitype.Mediator, _ string) {
	if err := s.agent.DeleteDraft(m, r.PathValue("case")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// respond answers a core call's (value, error) pair: the value with code,
// or the error mapped by fail.
func respond(s *server, w http.ResponseWriter, r *http.Request, code int) func(any, error) {
	return func(v any, err error) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, code, v)
	}
}

// mediationError maps the errors of mediator mode and the case book; false
// when err is none of them.
func mediationError(w http.ResponseWriter, err error) bool {
	unauthorized := func(field, msg string) {
		writeError(w, http.StatusUnauthorized, apitype.Error{Code: apitype.CodeUnauthorized, Field: field, Message: msg})
	}
	switch {
	case errors.Is(err, mediatorauth.ErrNoSession):
		unauthorized("", "sign in as a mediator first (no session, or it lapsed)")
	case errors.Is(err, mediatorauth.ErrNotOnRoster):
		unauthorized("card", "this card is not on the kiosk's mediator roster")
	case errors.Is(err, mediatorauth.ErrWrongPIN):
		unauthorized("pin", "wrong PIN")
	case errors.Is(err, mediatorauth.ErrLocked):
		writeError(w, http.StatusTooManyRequests, apitype.Error{Code: apitype.CodeLocked, Field: "pin", Message: err.Error()})
	case errors.Is(err, casebook.ErrNotFound), errors.Is(err, casebook.ErrNoFollowUp):
		writeError(w, http.StatusNotFound, apitype.Error{Code: apitype.CodeNotFound, Message: err.Error()})
	default:
		return false
	}
	return true
}
