package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
	"unicode/utf8"
)

// StatusFormat is the format of the township's answer to one request, the
// content of a request-status bundle (bundle.KindRequestStatus;
// docs/requests.md). A change a request-status/v1 kiosk would misread gets
// a new format.
const StatusFormat = "request-status/v1"

// Limits of an answer: the reply is shown and read aloud at the kiosk, so
// it is short; By and To name offices, not people.
const (
	MaxReply = 120 // characters
	MaxName  = 40  // characters, of By and To
)

// Reasons an answer is not applied, beside the bundle's own refusals
// (agent/bundle). Each leaves the stored status as it was.
var (
	// ErrBadChange means the content is not a valid request-status/v1
	// answer.
	ErrBadChange = errors.New("request: not a valid request-status/v1 answer")
	// ErrUnknownRequest means no request of this kiosk has the answer's
	// number: another kiosk's number, or an entry lost with a damaged
	// store.
	ErrUnknownRequest = errors.New("request: no request of this kiosk has that number")
	// ErrWrongRequest means the kiosk's request of that number is another
	// request (its record id differs): an answer meant for another kiosk's
	// request of the same number, or a misnumbered one.
	ErrWrongRequest = errors.New("request: the request of that number is another one")
	// ErrReplay means the answer's version is the one applied already: a
	// retained answer delivered again at a reconnect, harmless.
	ErrReplay = errors.New("request: answer already applied")
	// ErrStale means the answer's version is below the one applied: an
	// older answer, replayed or delivered late.
	ErrStale = errors.New("request: answer older than the one applied")
)

// Change is the township's answer to one request: its new status and a
// short reply. The bundle carrying it names the kiosk (its target) and
// orders it (its version).
type Change struct {
	Format string `json:"format"`
	// Request is the request/v1 record's id, Seq its number on the kiosk:
	// both must match the kiosk's stored request.
	Request string `json:"request"`
	Seq     uint64 `json:"seq"`
	// Status is one of StatusAccepted, StatusInProgress, StatusClosed,
	// StatusReferred (never back to StatusSubmitted).
	Status string `json:"status"`
	Reply  string `json:"reply,omitempty"`
	// By is the office that answered (镇综治中心), To the one a referred
	// request went to (镇城建办).
	By string `json:"by,omitempty"`
	To string `json:"to,omitempty"`
	// At is when the clerk made the change.
	At time.Time `json:"at"`
}

// Statuses the township sets.
var townshipStatuses = []string{StatusAccepted, StatusInProgress, StatusClosed, StatusReferred}

// Check says whether c is a valid answer.
func (c Change) Check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadChange}, a...)...)
	}
	switch {
	case c.Format != StatusFormat:
		return bad("format %.40q, want %q", c.Format, StatusFormat)
	case c.Request == "" || len(c.Request) > 64:
		return bad("request is not a record id")
	case c.Seq == 0:
		return bad("seq is required")
	case !slices.Contains(townshipStatuses, c.Status):
		return bad("status %.40q is not one of %v", c.Status, townshipStatuses)
	case c.At.IsZero():
		return bad("at is required")
	case !utf8.ValidString(c.Reply) || utf8.RuneCountInString(c.Reply) > MaxReply:
		return bad("reply is longer than %d characters", MaxReply)
	case !utf8.ValidString(c.By) || utf8.RuneCountInString(c.By) > MaxName:
		return bad("by is longer than %d characters", MaxName)
	case !utf8.ValidString(c.To) || utf8.RuneCountInString(c.To) > MaxName:
		return bad("to is longer than %d characters", MaxName)
	case c.To != "" && c.Status != StatusReferred:
		return bad("to is for a referred request only")
	}
	return nil
}

// Encode is the content of a request-status bundle: compact JSON, times
// in UTC.
func (c Change) Encode() ([]byte, error) {
	c.Format = StatusFormat
	c.At = c.At.UTC()
	if err := c.Check(); err != nil {
		return nil, err
	}
	return json.Marshal(c)
}

// ParseChange reads a request-status bundle's content strictly: unknown
// members and trailing data are refused, as a bundle's are.
func ParseChange(data []byte) (Change, error) {
	var c Change
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Change{}, fmt.Errorf("%w: %w", ErrBadChange, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Change{}, fmt.Errorf("%w: trailing data", ErrBadChange)
	}
	if err := c.Check(); err != nil {
		return Change{}, err
	}
	return c, nil
}

// Apply is s with the answer c, signed at version, in force; or an error
// (ErrWrongRequest, ErrReplay, ErrStale) and s unchanged. Answers are
// ordered by version alone, whatever their status: a closed request
// reopened is a higher version.
func (s Stored) Apply(c Change, version uint64) (Stored, error) {
	switch {
	case s.ID != c.Request:
		return s, ErrWrongRequest
	case version == s.Version:
		return s, fmt.Errorf("%w: version %d", ErrReplay, version)
	case version < s.Version:
		return s, fmt.Errorf("%w: version %d, applied %d", ErrStale, version, s.Version)
	}
	wasClosed := s.Status == StatusClosed
	s.Status, s.Version, s.Reply, s.Updated = c.Status, version, c.Reply, c.At.UTC()
	s.By, s.To = c.By, c.To
	switch {
	case c.Status != StatusClosed:
		s.Closed = time.Time{} // reopened, or not closed yet
	case !wasClosed:
		s.Closed = c.At.UTC() // a reply to a closed request keeps when it closed
	}
	return s, nil
}
