// Package localapi serves kioskd's local API v1 (docs/local-api.md): HTTP/JSON on
// a unix socket, used by the kiosk UI and by technicians' tools on the kiosk.
//
// The server is a table of handlers over the agent core. It owns the HTTP
// concerns only: decoding strictly (unknown fields and oversize bodies are
// refused, never guessed at), mapping errors to status codes, and never
// answering 201 before the core says the record is on disk.
package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/outbox"
)

// MaxBodyBytes bounds a request body; a booking is a few hundred bytes.
const MaxBodyBytes = 16 << 10

// Agent is what the API needs from the agent core.
type Agent interface {
	Status() apitype.Status
	Menu() apitype.Menu
	Slots(service string) (apitype.Slots, error)
	Book(ctx context.Context, req apitype.BookingRequest) (apitype.Booking, error)
	DeadLetters() (apitype.DeadLetters, error)
	Requeue(seq uint64) error
	Presence(ctx context.Context, after uint64, wait time.Duration) apitype.PresenceEvents
	MarkInUse(d time.Duration)
	MediationAgent
	RequestAgent
	PointsAgent
}

// Link is what the API needs from the township link.
type Link interface {
	Nudge()
}

// Cards is what the API needs from the ID-card reader loop.
type Cards interface {
	Events(ctx context.Context, after uint64, wait time.Duration) apitype.CardEvents
}

// MaxEventWait bounds one long-poll (GET /v1/idcard/events, /v1/presence).
// A long-poll that returns empty still wakes the screen, which on an
// unattended kiosk is most of what it does all day: the longer the wait,
// the less CPU it costs. Each long-poll moves its own write deadline past
// its wait; the server's WriteTimeout stays short for every other request.
const MaxEventWait = 55 * time.Second

// longPollSlack is how long a long-poll's answer may take to write after
// its wait.
const longPollSlack = 10 * time.Second

type server struct {
	agent Agent
	link  Link
	cards Cards
	log   *slog.Logger
}

type handlerFunc func(s *server, w http.ResponseWriter, r *http.Request)

// handlers is the whole API: one line per endpoint.
var handlers = map[string]handlerFunc{
	"GET /v1/status":    (*server).serveStatus,
	"GET /v1/menu":      (*server).serveMenu,
	"GET /v1/slots":     (*server).serveSlots,
	"POST /v1/bookings": (*server).serveBook,

	"GET /v1/requests/menu":            (*server).serveRequestMenu,
	"POST /v1/requests":                (*server).serveSubmitRequest,
	"POST /v1/requests/by-card":        (*server).serveRequestsByCard,
	"POST /v1/requests/{number}/check": (*server).serveCheckRequest,

	"GET /v1/points":           (*server).servePoints,
	"POST /v1/points/by-card":  (*server).servePointsByCard,
	"POST /v1/points/view":     (*server).servePointsView,
	"POST /v1/points/view/end": (*server).serveEndPointsView,

	"POST /v1/mediations":                    (*server).serveBookMediation,
	"POST /v1/mediator/signin":               (*server).serveSignIn,
	"POST /v1/mediator/signout":              signedIn((*server).serveSignOut),
	"GET /v1/mediator/cases":                 signedIn((*server).serveCases),
	"POST /v1/mediator/cases":                signedIn((*server).serveNewCase),
	"GET /v1/mediator/cases/{id}":            signedIn((*server).serveCase),
	"POST /v1/mediator/cases/{id}/sessions":  signedIn((*server).serveLogSession),
	"POST /v1/mediator/cases/{id}/followups": signedIn((*server).serveFollowUpDone),
	"POST /v1/mediator/cards":                signedIn((*server).serveHoldCard),
	"POST /v1/mediator/cases/{id}/photos":    signedIn((*server).servePhoto),
	"GET /v1/mediator/phrases":               signedIn((*server).servePhrases),
	"GET /v1/mediator/followups":             signedIn((*server).serveFollowUps),
	"GET /v1/mediator/indicators":            signedIn((*server).serveIndicators),
	"GET /v1/mediator/drafts":                signedIn((*server).serveDrafts),
	"PUT /v1/mediator/drafts/{case}":         signedIn((*server).serveSaveDraft),
	"DELETE /v1/mediator/drafts/{case}":      signedIn((*server).serveDeleteDraft),

	"GET /v1/outbox/dead":                (*server).serveDeadLetters,
	"POST /v1/outbox/dead/{seq}/requeue": (*server).serveRequeue,
	"POST /v1/link/retry":                (*server).serveRetry,
	"GET /v1/idcard/events":              (*server).serveCardEvents,
	"GET /v1/presence":                   (*server).servePresence,
	"POST /v1/screen/in-use":             (*server).serveInUse,

	"GET /v1/devices":      (*server).serveDevices,
	"POST /v1/speak":       (*server).serveSpeak,
	"POST /v1/print":       (*server).servePrint,
	"POST /v1/print/event": (*server).servePrintEvent,
}

// NewHandler returns the API's HTTP handler.
// cards may be nil on a kiosk without a reader: its events never come.
func NewHandler(agent Agent, link Link, cards Cards, log *slog.Logger) http.Handler {
	s := &server{agent: agent, link: link, cards: cards, log: log}
	mux := http.NewServeMux()
	for pattern, h := range handlers {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { h(s, w, r) })
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, apitype.Error{Code: apitype.CodeNotFound, Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
	return mux
}

func (s *server) serveStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.agent.Status())
}

func (s *server) serveMenu(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.agent.Menu())
}

func (s *server) serveSlots(w http.ResponseWriter, r *http.Request) {
	service := r.URL.Query().Get("service")
	if service == "" {
		service = "legal-advisor"
	}
	slots, err := s.agent.Slots(service)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, slots)
}

func (s *server) serveBook(w http.ResponseWriter, r *http.Request) {
	var req apitype.BookingRequest
	if apiErr := decodeBody(w, r, &req); apiErr != nil {
		writeError(w, http.StatusBadRequest, *apiErr)
		return
	}
	b, err := s.agent.Book(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, b)
}

// serveInUse takes the UI's mark that someone is using the screen
// (core.MarkInUse).
func (s *server) serveInUse(w http.ResponseWriter, r *http.Request) {
	var req apitype.InUseRequest
	if apiErr := decodeBody(w, r, &req); apiErr != nil {
		writeError(w, http.StatusBadRequest, *apiErr)
		return
	}
	if req.Seconds < 0 || req.Seconds > apitype.MaxInUseSeconds {
		writeError(w, http.StatusBadRequest, apitype.Error{Code: apitype.CodeInvalid, Field: "seconds",
			Message: fmt.Sprintf("must be 0 to %d", apitype.MaxInUseSeconds)})
		return
	}
	s.agent.MarkInUse(time.Duration(req.Seconds) * time.Second)
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) serveDeadLetters(w http.ResponseWriter, r *http.Request) {
	d, err := s.agent.DeadLetters()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *server) serveRequeue(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, apitype.Error{Code: apitype.CodeInvalid, Field: "seq", Message: "must be a record's seq number"})
		return
	}
	if err := s.agent.Requeue(seq); err != nil {
		s.fail(w, r, err)
		return
	}
	s.link.Nudge()
	w.WriteHeader(http.StatusNoContent)
}

// serveCardEvents long-polls the reader's events: ?after=SEQ&wait=DURATION.
// longPoll reads a long-poll's after and wait parameters; false when it
// has answered the request with their error.
func longPoll(w http.ResponseWriter, r *http.Request) (after uint64, wait time.Duration, ok bool) {
	q := r.URL.Query()
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, apitype.Error{Code: apitype.CodeInvalid, Field: "after", Message: "must be an event seq"})
			return 0, 0, false
		}
		after = n
	}
	wait = MaxEventWait
	if v := q.Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > MaxEventWait {
			writeError(w, http.StatusBadRequest, apitype.Error{Code: apitype.CodeInvalid, Field: "wait", Message: "must be a duration up to " + MaxEventWait.String()})
			return 0, 0, false
		}
		wait = d
	}
	// Not every ResponseWriter has a deadline (tests' recorders); those
	// have no WriteTimeout to outlive either.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(wait + longPollSlack))
	return after, wait, true
}

func (s *server) servePresence(w http.ResponseWriter, r *http.Request) {
	after, wait, ok := longPoll(w, r)
	if ok {
		writeJSON(w, http.StatusOK, s.agent.Presence(r.Context(), after, wait))
	}
}

func (s *server) serveCardEvents(w http.ResponseWriter, r *http.Request) {
	after, wait, ok := longPoll(w, r)
	if !ok {
		return
	}
	if s.cards == nil {
		select {
		case <-r.Context().Done():
		case <-time.After(wait):
		}
		writeJSON(w, http.StatusOK, apitype.CardEvents{Events: []apitype.CardEvent{}, Next: after})
		return
	}
	writeJSON(w, http.StatusOK, s.cards.Events(r.Context(), after, wait))
}

// serveRetry ends the link's backoff wait: a technician who has just fixed
// the network should not wait up to a minute to see the queue move.
func (s *server) serveRetry(w http.ResponseWriter, r *http.Request) {
	s.link.Nudge()
	w.WriteHeader(http.StatusAccepted)
}

// fail maps an error from the core to an answer.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var fe *booking.FieldError
	if errors.As(err, &fe) {
		writeError(w, http.StatusBadRequest, apitype.Error{Code: fe.Code, Field: fe.Field, Message: fe.Msg})
		return
	}
	if errors.Is(err, context.Canceled) {
		return // the client went away; nobody is there to answer
	}
	if mediationError(w, err) || requestError(w, err) || pointsError(w, err) {
		return
	}
	if errors.Is(err, core.ErrNoPhoto) {
		s.log.Warn("photo not taken", "err", err)
		writeError(w, http.StatusConflict, apitype.Error{Code: apitype.CodeNoDevice, Message: err.Error()})
		return
	}
	if errors.Is(err, outbox.ErrNotFound) {
		writeError(w, http.StatusNotFound, apitype.Error{Code: apitype.CodeNotFound, Message: err.Error()})
		return
	}
	if errors.Is(err, outbox.ErrQuotaFull) || errors.Is(err, outbox.ErrDiskFull) {
		s.log.Error("request refused: storage full", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInsufficientStorage, apitype.Error{
			Code:    apitype.CodeStorageFull,
			Message: "the kiosk's storage is full until queued records reach the township; nothing was recorded",
		})
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusServiceUnavailable, apitype.Error{
		Code:    apitype.CodeStorage,
		Message: "the kiosk could not save this; nothing was recorded, please try again",
	})
}

// decodeBody reads exactly one JSON object with only known fields.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) *apitype.Error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.More() || dec.Decode(&struct{}{}) != io.EOF {
			return &apitype.Error{Code: apitype.CodeBadJSON, Message: "body must be one JSON object"}
		}
		return nil
	}
	var (
		maxErr    *http.MaxBytesError
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	switch {
	case errors.As(err, &maxErr):
		return &apitype.Error{Code: apitype.CodeTooLarge, Message: fmt.Sprintf("body is larger than %d bytes", MaxBodyBytes)}
	case errors.As(err, &typeErr):
		return &apitype.Error{Code: apitype.CodeInvalid, Field: typeErr.Field, Message: fmt.Sprintf("must be a JSON %s", typeErr.Type)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &apitype.Error{Code: apitype.CodeUnknownField, Field: field, Message: "is not a field of this request"}
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return &apitype.Error{Code: apitype.CodeBadJSON, Message: "body is not valid JSON"}
	case errors.Is(err, io.EOF):
		return &apitype.Error{Code: apitype.CodeBadJSON, Message: "body is empty"}
	default:
		return &apitype.Error{Code: apitype.CodeBadJSON, Message: "body could not be read"}
	}
}

// jsonContentType is every JSON answer's Content-Type, shared rather than
// allocated per answer: net/http only reads header values (Add appends to
// a copy, the slice being full).
var jsonContentType = []string{"application/json; charset=utf-8"}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, e apitype.Error) {
	writeJSON(w, code, apitype.ErrorResponse{Error: e})
}
