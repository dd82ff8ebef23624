// Package localclient is the typed Go client of kioskd's local API v1. The kiosk
// UI and kioskctl use it; it depends only on the API's types, never on the
// agent's storage, MQTT or hardware packages.
package localclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// APIError is an error answer from kioskd.
type APIError struct {
	StatusCode int
	Code       string // e.g. "invalid", "slot_in_past", "storage"
	Field      string // the request field to blame, if one is
	Message    string
}

func (e *APIError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("kioskd: %d %s: %s: %s", e.StatusCode, e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("kioskd: %d %s: %s", e.StatusCode, e.Code, e.Message)
}

// ErrUnavailable wraps failures to reach kioskd at all (not running, socket
// missing), which the UI shows differently from a refused request.
var ErrUnavailable = errors.New("kioskd is not reachable")

// Client talks to one kioskd over its unix socket.
type Client struct {
	hc *http.Client
}

// New returns a client for the socket at path.
func New(socketPath string) *Client {
	return &Client{hc: &http.Client{Transport: newTransport(socketPath)}}
}

// Status returns GET /v1/status.
func (c *Client) Status(ctx context.Context) (apitype.Status, error) {
	var s apitype.Status
	return s, c.do(ctx, http.MethodGet, "/v1/status", nil, http.StatusOK, &s)
}

// Menu returns GET /v1/menu.
func (c *Client) Menu(ctx context.Context) (apitype.Menu, error) {
	var m apitype.Menu
	return m, c.do(ctx, http.MethodGet, "/v1/menu", nil, http.StatusOK, &m)
}

// Slots returns GET /v1/slots for a service.
func (c *Client) Slots(ctx context.Context, service string) (apitype.Slots, error) {
	var s apitype.Slots
	return s, c.do(ctx, http.MethodGet, "/v1/slots?service="+url.QueryEscape(service), nil, http.StatusOK, &s)
}

// Book makes a booking. It returns only once kioskd has committed it.
func (c *Client) Book(ctx context.Context, req apitype.BookingRequest) (apitype.Booking, error) {
	var b apitype.Booking
	return b, c.do(ctx, http.MethodPost, "/v1/bookings", req, http.StatusCreated, &b)
}

// CardEvents long-polls GET /v1/idcard/events: it returns the reader's events
// after seq after, waiting up to wait for one to happen (an empty list then).
func (c *Client) CardEvents(ctx context.Context, after uint64, wait time.Duration) (apitype.CardEvents, error) {
	var e apitype.CardEvents
	path := fmt.Sprintf("/v1/idcard/events?after=%d&wait=%s", after, wait)
	return e, c.do(ctx, http.MethodGet, path, nil, http.StatusOK, &e)
}

// Presence long-polls GET /v1/presence: the sighting count of the PIR
// sensor, at once if above after, else after wait.
func (c *Client) Presence(ctx context.Context, after uint64, wait time.Duration) (apitype.PresenceEvents, error) {
	var p apitype.PresenceEvents
	path := fmt.Sprintf("/v1/presence?after=%d&wait=%s", after, wait)
	return p, c.do(ctx, http.MethodGet, path, nil, http.StatusOK, &p)
}

// MarkInUse tells kioskd someone is using the screen for the next d
// (POST /v1/screen/in-use, rounded up to whole seconds, at most
// apitype.MaxInUseSeconds: a site's long mediator reset time is covered by
// the mediator's session anyway); zero says nobody is any longer.
func (c *Client) MarkInUse(ctx context.Context, d time.Duration) error {
	secs := min(max(int((d+time.Second-1)/time.Second), 0), apitype.MaxInUseSeconds)
	return c.do(ctx, http.MethodPost, "/v1/screen/in-use", apitype.InUseRequest{Seconds: secs}, http.StatusNoContent, nil)
}

// DeadLetters returns GET /v1/outbox/dead.
func (c *Client) DeadLetters(ctx context.Context) (apitype.DeadLetters, error) {
	var d apitype.DeadLetters
	return d, c.do(ctx, http.MethodGet, "/v1/outbox/dead", nil, http.StatusOK, &d)
}

// Requeue puts a dead letter back in the queue.
func (c *Client) Requeue(ctx context.Context, seq uint64) error {
	return c.do(ctx, http.MethodPost, fmt.Sprintf("/v1/outbox/dead/%d/requeue", seq), nil, http.StatusNoContent, nil)
}

// RetryLink ends the township link's backoff wait.
func (c *Client) RetryLink(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/link/retry", nil, http.StatusAccepted, nil)
}

// jsonContentType is every request body's Content-Type, shared rather than
// allocated per request: net/http only reads header values.
var jsonContentType = []string{"application/json"}

func (c *Client) do(ctx context.Context, method, path string, in any, want int, out any) error {
	return c.send(ctx, method, path, "", in, want, out)
}

// send is do with a mediator session token for the Authorization header.
func (c *Client) send(ctx context.Context, method, path, token string, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("localclient: encode: %w", err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://kioskd"+path, body)
	if err != nil {
		return fmt.Errorf("localclient: %w", err)
	}
	if in != nil {
		req.Header["Content-Type"] = jsonContentType
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A URL's query may hold a token: errors name the path only.
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = "http://kioskd" + pathOnly(path)
		}
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		apiErr := &APIError{StatusCode: resp.StatusCode}
		var er apitype.ErrorResponse
		if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&er) == nil && er.Error.Code != "" {
			apiErr.Code, apiErr.Field, apiErr.Message = er.Error.Code, er.Error.Field, er.Error.Message
		} else {
			apiErr.Code, apiErr.Message = apitype.CodeInternal, resp.Status
		}
		return apiErr
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("localclient: decode %s answer: %w", pathOnly(path), err)
	}
	return nil
}

// pathOnly is path without its query, which may hold a token or a proof:
// what errors may print.
func pathOnly(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return path[:i]
	}
	return path
}
