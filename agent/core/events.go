package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// ErrNoEvent: no upcoming lecture or fair of that service starts then.
var ErrNoEvent = errors.New("core: no upcoming event at that time")

// Services whose dated events can be printed.
const (
	lectureService = "legal-lecture"
	fairService    = "legal-fair"
)

// PrintEvent prints a slip with the date and place of an upcoming lecture
// or legal fair, found by its start among what the menu offers now. It
// carries nothing of the villager's, so unlike a receipt it needs no
// confirmation behind it; its QR code is the service's 闽事理 page, when
// the site has one.
func (c *Core) PrintEvent(ctx context.Context, service string, at time.Time) error {
	ct := c.live().cfg.Site.Content
	var events []apitype.Event
	switch service {
	case lectureService:
		events = c.upcoming(ct.Lecture.Schedule)
	case fairService:
		events = c.upcoming(ct.Fairs)
	default:
		return &booking.FieldError{Field: "service", Code: apitype.CodeInvalid,
			Msg: fmt.Sprintf("%q has no dated events (want %s or %s)", service, lectureService, fairService)}
	}
	p := c.printer
	if st := deviceStatus(p); st.State == apitype.DeviceAbsent {
		return fmt.Errorf("%w: no printer", ErrNoDevice)
	}
	for _, e := range events {
		if !e.At.Equal(at) {
			continue
		}
		s, _ := ct.ServiceByID(service)
		r := Receipt{
			Title:  s.Title,
			Lines:  []string{e.Title, "时间：" + c.receiptTime(e.At), "地点：" + e.Place},
			QR:     s.Platforms.OnlineURL,
			Footer: c.live().cfg.Site.Kiosk.Name,
		}
		if err := p.Print(ctx, r); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%w: the printer failed: %v", ErrNoDevice, err)
		}
		c.log.Info("event date printed", "service", service, "at", e.At)
		return nil
	}
	return ErrNoEvent
}
