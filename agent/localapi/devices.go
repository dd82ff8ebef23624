package localapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/fengqiao/kiosk/agent/core"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// DeviceAgent is what the device endpoints need from the agent core. It
// is kept out of Agent so that an agent without devices still serves the
// rest of the API: the server finds these methods on the agent it was
// given, and without them every device is absent.
type DeviceAgent interface {
	Devices() apitype.Devices
	Speak(text string) error
	Print(ctx context.Context, id string) error
}

func (s *server) deviceAgent() (DeviceAgent, bool) {
	d, ok := s.agent.(DeviceAgent)
	return d, ok
}

func (s *server) serveDevices(w http.ResponseWriter, r *http.Request) {
	d, ok := s.deviceAgent()
	if !ok {
		absent := apitype.DeviceStatus{State: apitype.DeviceAbsent}
		writeJSON(w, http.StatusOK, apitype.Devices{Printer: absent, Speech: absent})
		return
	}
	writeJSON(w, http.StatusOK, d.Devices())
}

// serveSpeak starts reading text aloud and answers 202 without waiting for
// the speech to end.
func (s *server) serveSpeak(w http.ResponseWriter, r *http.Request) {
	var req apitype.SpeakRequest
	if apiErr := decodeBody(w, r, &req); apiErr != nil {
		writeError(w, http.StatusBadRequest, *apiErr)
		return
	}
	d, ok := s.deviceAgent()
	if !ok {
		s.failDevice(w, r, core.ErrNoDevice)
		return
	}
	if err := d.Speak(req.Text); err != nil {
		s.failDevice(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// servePrint prints the receipt of a recent confirmation and answers 200
// once the printer has its bytes.
func (s *server) servePrint(w http.ResponseWriter, r *http.Request) {
	var req apitype.PrintRequest
	if apiErr := decodeBody(w, r, &req); apiErr != nil {
		writeError(w, http.StatusBadRequest, *apiErr)
		return
	}
	if req.ID == "" {
		writeError(w, http.StatusBadRequest, apitype.Error{Code: apitype.CodeRequired, Field: "id", Message: "is the id of a booking or mediation just made"})
		return
	}
	d, ok := s.deviceAgent()
	if !ok {
		s.failDevice(w, r, core.ErrNoDevice)
		return
	}
	if err := d.Print(r.Context(), req.ID); err != nil {
		s.failDevice(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// failDevice maps the device errors; anything else goes to fail.
func (s *server) failDevice(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, core.ErrNoDevice):
		// A device that is absent or failing is the same to the screen:
		// it hides the button. The log keeps the cause for a technician.
		s.log.Warn("device request refused", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusConflict, apitype.Error{Code: apitype.CodeNoDevice, Message: err.Error()})
	case errors.Is(err, core.ErrNoReceipt):
		writeError(w, http.StatusNotFound, apitype.Error{Code: apitype.CodeNotFound, Field: "id",
			Message: "no confirmation with this id was made on this kiosk in the last few minutes"})
	default:
		s.fail(w, r, err)
	}
}
