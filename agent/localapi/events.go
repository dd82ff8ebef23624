package localapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// EventPrinter prints the date of an upcoming lecture or fair. Like
// DeviceAgent it is found on the agent the server was given; an agent
// without it has no printer for events.
type EventPrinter interface {
	PrintEvent(ctx context.Context, service string, at time.Time) error
}

// servePrintEvent prints an event's date and place and answers once the
// printer has it.
func (s *server) servePrintEvent(w http.ResponseWriter, r *http.Request) {
	var req apitype.PrintEventRequest
	if apiErr := decodeBody(w, r, &req); apiErr != nil {
		writeError(w, http.StatusBadRequest, *apiErr)
		return
	}
	if req.At.IsZero() {
		writeError(w, http.StatusBadRequest, apitype.Error{Code: apitype.CodeRequired, Field: "at", Message: "is the event's start, as GET /v1/menu gives it"})
		return
	}
	p, ok := s.agent.(EventPrinter)
	if !ok {
		s.failDevice(w, r, core.ErrNoDevice)
		return
	}
	err := p.PrintEvent(r.Context(), req.Service, req.At)
	switch {
	case err == nil:
		w.WriteHeader(http.StatusOK)
	case errors.Is(err, core.ErrNoEvent):
		writeError(w, http.StatusNotFound, apitype.Error{Code: apitype.CodeNotFound, Field: "at",
			Message: "no upcoming event of this service starts then"})
	default:
		s.failDevice(w, r, err)
	}
}
