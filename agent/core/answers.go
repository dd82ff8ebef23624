package core

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/request"
)

// ApplyAnswer puts the township's answer c, from a request-status bundle
// already verified at version (agent/bundle: signature, key, target,
// time), in force on the request it names: one commit of its stored
// status (PutKept), after which the villager's check shows the status,
// the reply and when. A refusal (request.ErrUnknownRequest,
// ErrWrongRequest, ErrReplay, ErrStale) changes nothing.
func (c *Core) ApplyAnswer(ctx context.Context, ch request.Change, version uint64) error {
	// One answer at a time: two versions of one request's answer read and
	// written at once could leave the older in force.
	c.answerMu.Lock()
	defer c.answerMu.Unlock()
	st, err := c.storedRequest(ch.Seq)
	if errors.Is(err, outbox.ErrNotFound) {
		return fmt.Errorf("%w: %s", request.ErrUnknownRequest, BookingNumber(ch.Seq))
	}
	if err != nil {
		return fmt.Errorf("core: answer to request %s: %w", BookingNumber(ch.Seq), err)
	}
	next, err := st.Apply(ch, version)
	if err != nil {
		return fmt.Errorf("answer to request %s: %w", BookingNumber(ch.Seq), err)
	}
	v, err := next.Encode()
	if err != nil {
		return err
	}
	if err := c.outbox.PutKept(ctx, request.Table, ch.Seq, v); err != nil {
		return fmt.Errorf("core: answer to request %s: %w", BookingNumber(ch.Seq), err)
	}
	c.log.Info("township answer applied", "number", BookingNumber(ch.Seq), "id", st.ID, "status", ch.Status, "version", version)
	return nil
}

// AnsweredRequests is the version of the answer in force for each request
// the township has answered, by number: what the kiosk tells the township
// it has applied (docs/requests.md), so the township can see which of its
// answers arrived.
func (c *Core) AnsweredRequests() (map[string]uint64, error) {
	out := map[string]uint64{}
	err := c.scanRequests(func(seq uint64, st request.Stored) {
		if st.Version > 0 {
			out[BookingNumber(seq)] = st.Version
		}
	})
	if err != nil {
		return nil, fmt.Errorf("core: answered requests: %w", err)
	}
	return out, nil
}

// closingIndicators adds 事件办结率 and the time to close to ind, from the
// requests' stored statuses as the township's answers left them: the
// share of the requests kept here that are closed, and the median hours
// from a request to its closing. A kiosk serves one village, so these are
// the village's; the township adds them up across kiosks.
func (c *Core) closingIndicators(ind *apitype.Indicators) error {
	var kept int
	var hours []float64
	err := c.scanRequests(func(_ uint64, st request.Stored) {
		kept++
		if st.Status == request.StatusClosed {
			closed := st.Closed
			if closed.IsZero() {
				closed = st.Updated
			}
			hours = append(hours, max(0, closed.Sub(st.Created).Hours()))
		}
	})
	if err != nil {
		return fmt.Errorf("core: closing indicators: %w", err)
	}
	if kept == 0 {
		return nil
	}
	ind.EventsClosed = len(hours)
	rate := float64(len(hours)) / float64(kept)
	ind.EventsClosedRate = &rate
	if len(hours) > 0 {
		slices.Sort(hours)
		m := hours[len(hours)/2]
		if len(hours)%2 == 0 {
			m = (hours[len(hours)/2-1] + hours[len(hours)/2]) / 2
		}
		ind.EventsCloseHours = &m
	}
	return nil
}
