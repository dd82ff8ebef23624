package localclient

import (
	"context"
	"net/http"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// PrintEvent prints the date and place of an upcoming lecture or legal
// fair (service legal-lecture or legal-fair), named by its start as the
// menu gives it. An *APIError with Code apitype.CodeNoDevice means no
// working printer; with status 404, that no such event is still to come.
func (c *Client) PrintEvent(ctx context.Context, service string, at time.Time) error {
	return c.do(ctx, http.MethodPost, "/v1/print/event", apitype.PrintEventRequest{Service: service, At: at}, http.StatusOK, nil)
}
