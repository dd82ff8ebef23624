package localclient

import (
	"context"
	"net/http"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// Devices returns GET /v1/devices: which optional devices (printer,
// read-aloud) the kiosk has and whether they work.
func (c *Client) Devices(ctx context.Context) (apitype.Devices, error) {
	var d apitype.Devices
	return d, c.do(ctx, http.MethodGet, "/v1/devices", nil, http.StatusOK, &d)
}

// Speak starts reading text aloud; it returns without waiting for the
// speech to end, and a later call cuts this one off. An *APIError with
// Code apitype.CodeNoDevice means the kiosk cannot speak.
func (c *Client) Speak(ctx context.Context, text string) error {
	return c.do(ctx, http.MethodPost, "/v1/speak", apitype.SpeakRequest{Text: text}, http.StatusAccepted, nil)
}

// Print prints the receipt of a booking or mediation made on this kiosk in
// the last few minutes, by its id, and returns once the printer has it. An
// *APIError with Code apitype.CodeNoDevice means no working printer; with
// status 404, that the confirmation is unknown or too old.
func (c *Client) Print(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/v1/print", apitype.PrintRequest{ID: id}, http.StatusOK, nil)
}
