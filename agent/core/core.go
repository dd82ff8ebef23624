// Package core owns the kiosk's domain operations: it turns what a villager asks
// for into validated domain records, commits them to the outbox, and answers
// what the screen needs to show (menu, slots, status). It knows nothing of HTTP
// or MQTT; the local API and the MQTT link sit on either side of it.
package core

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/internal/phone"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/record"
)

// Outbox is where committed records go.
type Outbox interface {
	Enqueue(ctx context.Context, env record.Envelope) (record.Envelope, error)
	Depth() int
}

// Link reports the township connection.
type Link interface {
	State() (state string, since time.Time, lastError string)
}

// Core is the agent core. Its methods are safe for concurrent use.
type Core struct {
	cfg     *config.Config
	version string
	outbox  Outbox
	link    Link
	planner *booking.Planner
	log     *slog.Logger
	now     func() time.Time
}

// New returns the core for a validated configuration.
func New(cfg *config.Config, version string, ob Outbox, link Link, log *slog.Logger, now func() time.Time) *Core {
	return &Core{
		cfg: cfg, version: version, outbox: ob, link: link, log: log, now: now,
		planner: booking.NewPlanner(cfg.Site.Content, cfg.Location),
	}
}

func (c *Core) source() record.Source {
	k := c.cfg.Site.Kiosk
	return record.Source{Kiosk: k.ID, Township: k.Township, Village: k.Village}
}

// Status reports the kiosk's identity, link and queue.
func (c *Core) Status() apitype.Status {
	k := c.cfg.Site.Kiosk
	state, since, lastErr := c.link.State()
	return apitype.Status{
		Kiosk: k.ID, Township: k.Township, Village: k.Village, Name: k.Name,
		Version: c.version,
		Time:    c.now(),
		Broker:  apitype.BrokerStatus{State: state, Since: since, LastError: lastErr},
		Queue:   apitype.QueueStatus{Depth: c.outbox.Depth()},
	}
}

// Menu is the 513 menu from the site's content.
func (c *Core) Menu() apitype.Menu {
	ct := c.cfg.Site.Content
	m := apitype.Menu{KioskName: c.cfg.Site.Kiosk.Name, Topics: ct.Topics}
	for _, id := range config.ServiceIDs {
		s, _ := ct.ServiceByID(id)
		m.Services = append(m.Services, apitype.Service{
			ID: s.ID, Title: s.Title, Summary: s.Summary,
			Bookable: isBookable(s.ID),
			Platforms: []apitype.Platform{
				{ID: apitype.PlatformInPerson, Name: "实体", How: s.Platforms.InPerson},
				{ID: apitype.PlatformOnline, Name: "网络", How: s.Platforms.Online},
				{ID: apitype.PlatformHotline, Name: "热线", How: s.Platforms.Hotline},
			},
		})
	}
	a := ct.Advisor
	m.Advisor = apitype.Advisor{Name: a.Name, Firm: a.Firm, Phone: a.Phone}
	for _, w := range a.Duty {
		m.Advisor.Duty = append(m.Advisor.Duty, w.String())
	}
	return m
}

func isBookable(service string) bool { return slices.Contains(booking.Bookable, service) }

// Slots lists the bookable slots of a service.
func (c *Core) Slots(service string) (apitype.Slots, error) {
	if !isBookable(service) {
		return apitype.Slots{}, &booking.FieldError{Field: "service", Code: booking.CodeNotBookable, Msg: fmt.Sprintf("%q takes no bookings", service)}
	}
	return apitype.Slots{Service: service, Slots: c.planner.Slots(c.now())}, nil
}

// Book validates a booking, commits it and returns it. A *booking.FieldError
// means the request was wrong; any other error means it was not stored.
func (c *Core) Book(ctx context.Context, req apitype.BookingRequest) (apitype.Booking, error) {
	now := c.now()
	body, err := c.planner.Validate(booking.Request(req), now)
	if err != nil {
		return apitype.Booking{}, err
	}
	env, err := record.New(c.source(), booking.RecordType, booking.Schema, body, now)
	if err != nil {
		return apitype.Booking{}, err
	}
	env, err = c.outbox.Enqueue(ctx, env)
	if err != nil {
		return apitype.Booking{}, err
	}
	// Never log the name or the number: the id is enough to trace the record.
	c.log.Info("booking committed", "id", env.ID, "seq", env.Seq, "service", body.Service, "slot", body.Slot)
	return apitype.Booking{
		ID: env.ID, Seq: env.Seq, Number: BookingNumber(env.Seq),
		Service: body.Service, Topic: body.Topic, Name: body.Name, Phone: phone.Mask(body.Phone),
		Slot: body.Slot, Created: env.TS, Advisor: body.Advisor,
	}, nil
}

// BookingNumber is the short number a villager quotes when they phone or come
// back: the record's per-kiosk sequence, which the township also sees.
func BookingNumber(seq uint64) string {
	return fmt.Sprintf("%05d", seq)
}
