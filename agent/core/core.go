// Package core owns the kiosk's domain operations: it turns what a villager asks
// for into validated domain records, commits them to the outbox, and answers
// what the screen needs to show (menu, slots, status). It knows nothing of HTTP
// or MQTT; the local API and the MQTT link sit on either side of it.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/internal/phone"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/mediation"
	"github.com/fengqiao/kiosk/agent/mediatorauth"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/points"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/request"
	"github.com/fengqiao/kiosk/agent/schema"
	"github.com/fengqiao/kiosk/agent/sealed"
)

// Outbox is where committed records go.
type Outbox interface {
	Enqueue(ctx context.Context, env record.Envelope, tallies ...string) (record.Envelope, error)
	EnqueueAll(ctx context.Context, envs []record.Envelope, tallies ...string) ([]record.Envelope, error)
	// EnqueueKept commits a record with an entry of a kept table (a
	// request's local status) in the one commit; GetKept and ScanKept
	// read the table back.
	EnqueueKept(ctx context.Context, env record.Envelope, kept outbox.Kept, tallies ...string) (record.Envelope, error)
	GetKept(table string, seq uint64) ([]byte, error)
	// PutKept replaces an entry, in a commit of its own: a request's
	// status as the township answers it.
	PutKept(ctx context.Context, table string, seq uint64, value []byte) error
	ScanKept(table string, fn func(seq uint64, value []byte) error) error
	Tallies(prefix string) (map[string]uint64, error)
	Stats() outbox.Stats
	DeadLetters() ([]outbox.DeadLetter, error)
	Requeue(seq uint64) error
}

// Cards hands over the full data of a card read on this kiosk by the token its
// summary carried to the screen. Tokens expire; Forget ends one early, once
// the record that needed the card is committed.
type Cards interface {
	Lookup(token string) (Identity, bool)
	Forget(token string)
	Status() apitype.ReaderStatus
}

// Identity is what a booking takes from an ID card.
type Identity struct {
	Name     string
	IDNumber string
	IDMasked string
	IDType   string
}

// Link reports the township connection.
type Link interface {
	State() (state string, since time.Time, lastError string)
}

// Core is the agent core. Its methods are safe for concurrent use.
type Core struct {
	// cur is the configuration in force and what is built from it; a
	// signed bundle from the township replaces it whole (ApplyConfig), so
	// a request sees one configuration from start to end.
	cur     atomic.Pointer[liveConfig]
	version string
	outbox  Outbox
	link    Link
	cards   Cards // nil: no card reader
	log     *slog.Logger
	now     func() time.Time

	auth  *mediatorauth.Auth
	cases CaseBook // nil: the kiosk takes no mediations

	speaker  Speaker      // nil: absent
	printer  Printer      // nil: absent
	receipts receiptCache // receipts of recent confirmations, memory only
	held     heldCards    // cards mediators hold for the form they are filling in
	// lastBundle reports the outcome of the last township bundle (nil:
	// no township control).
	lastBundle func() (apitype.ControlOutcome, bool)
	hardware   Hardware   // nil: no sensors or cameras
	screen     screenMark // the UI's "in use until" (screen.go)
	// reqKeys derive the keyed hashes villagers' requests are found and
	// checked by (nil: no secret, no requests); checks counts wrong
	// proofs (raise.go).
	reqKeys *request.Keys
	checks  checkLimits
	// points is the village's 美德银行 ledger (points.go); nil: none.
	points *points.Book
	// skippedRequests counts stored statuses scans skipped (raise.go).
	skippedRequests atomic.Int64
	secretLostBelow uint64
	anonMu          sync.Mutex // draws and commits anonymous reports' numbers
	// answerMu orders the township's answers (ApplyAnswer).
	answerMu sync.Mutex
}

// Options are everything a Core uses, given to New at once: nothing is
// added to a Core later, so no request can find one half built. Config,
// Outbox and Link are required; any other part left nil is a kiosk without
// it, which the core reports as absent.
type Options struct {
	// Config is the validated configuration in force at start; a township
	// bundle replaces it at run time through ApplyConfig.
	Config  *config.Config
	Version string
	Outbox  Outbox
	Link    Link
	// Cards resolves the tokens of cards read on this kiosk; nil: no
	// reader, and bookings are made without a card.
	Cards Cards
	// CaseBook keeps mediation cases; nil: mediation is refused with
	// ErrNoCaseBook.
	CaseBook CaseBook
	// Speaker reads aloud and Printer prints receipts; nil: absent.
	Speaker Speaker
	Printer Printer
	// Hardware is the sensors and cameras; nil: none (presence is never
	// seen, no consent photo can be taken).
	Hardware Hardware
	// LastBundle reports the outcome of the last township bundle for
	// /v1/status; nil: the kiosk is not under township control.
	LastBundle func() (apitype.ControlOutcome, bool)
	// RequestSecret is the kiosk's request secret (request.SecretFile,
	// request.SecretSize bytes); nil: villagers' requests are refused with
	// ErrNoRequestSecret.
	RequestSecret []byte
	// CheckLimitsFile keeps the counts of wrong typed proofs across
	// restarts (checklimit.go; kioskd: check-limits.json in its data
	// directory); "" keeps them in memory only.
	CheckLimitsFile string
	// RequestSecretLostBelow is the highest seq of the requests kept when
	// the request secret was found lost and made again (kioskd; 0: never):
	// their proofs cannot match, so checks of them are refused with
	// ErrRequestSecretLost rather than counted as misses.
	RequestSecretLostBelow uint64
	// Points keeps the village's 美德银行 ledger and answers card taps
	// for it (agent/points); nil: GET /v1/points says none is available
	// and a card tap for points is refused with ErrNoPoints.
	Points *points.Book
	// Log defaults to discarding; Now to time.Now.
	Log *slog.Logger
	Now func() time.Time
}

// New returns the core for opts. It panics when Config, Outbox or Link is
// missing: that is a bug in the caller's wiring, and it is found at start
// rather than on the first request that needs the part.
func New(opts Options) *Core {
	switch {
	case opts.Config == nil:
		panic("core: New without a Config")
	case opts.Outbox == nil:
		panic("core: New without an Outbox")
	case opts.Link == nil:
		panic("core: New without a Link")
	}
	log, now := opts.Log, opts.Now
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	cfg := opts.Config
	c := &Core{
		version: opts.Version, outbox: opts.Outbox, link: opts.Link, log: log, now: now,
		cards: opts.Cards, cases: opts.CaseBook, speaker: opts.Speaker, printer: opts.Printer,
		hardware: opts.Hardware, lastBundle: opts.LastBundle, points: opts.Points,
		auth: mediatorauth.New(mediatorauth.Options{
			Roster: cfg.Site.Mediators.Roster, Idle: cfg.Site.MediatorSessionIdle(),
			Log: log, Now: now,
		}),
	}
	if opts.RequestSecret != nil {
		keys, err := request.NewKeys(opts.RequestSecret)
		if err != nil {
			panic("core: New: " + err.Error())
		}
		c.reqKeys = keys
	}
	c.secretLostBelow = opts.RequestSecretLostBelow
	if opts.CheckLimitsFile != "" {
		if err := c.checks.load(opts.CheckLimitsFile); err != nil {
			// Counting starts again: a damaged file must not lock the
			// kiosk's checks for ever. It is rewritten at the next miss.
			log.Warn("request check limits not read; counting from zero", "err", err)
		}
	}
	c.cur.Store(newLiveConfig(cfg, c.now))
	c.warnWithheld()
	return c
}

// liveConfig is a validated configuration with the rules built from it.
type liveConfig struct {
	cfg      *config.Config
	planner  *booking.Planner
	rules    *mediation.Rules
	requests *request.Rules
	// sealer seals to the township's records key, one encapsulation per
	// epoch (agent/sealed); nil without a key, which withholds numbers.
	sealer *sealed.Sealer
}

func newLiveConfig(cfg *config.Config, now func() time.Time) *liveConfig {
	var s *sealed.Sealer
	if k := cfg.Site.SealKey(); k != nil {
		s = sealed.NewSealer(k, now, sealed.EpochLife)
	}
	return &liveConfig{cfg: cfg,
		planner:  booking.NewPlanner(cfg.Site.Content, cfg.Location),
		rules:    mediation.NewRules(cfg.Site.Content, cfg.Location),
		requests: request.NewRules(cfg.Site.Content.Requests),
		sealer:   s}
}

func (c *Core) live() *liveConfig { return c.cur.Load() }

// Config is the configuration in force.
func (c *Core) Config() *config.Config { return c.live().cfg }

// ApplyConfig puts cfg in force, at run time, for every request that
// starts after it: the menu, slots, booking and mediation rules, the
// mediator roster and the screen settings. Township bundles and their
// rollbacks come this way (agent/control). cfg must be validated; the
// kiosk's identity and transport do not change at run time (a bundle
// cannot set them).
func (c *Core) ApplyConfig(cfg *config.Config) {
	c.cur.Store(newLiveConfig(cfg, c.now))
	c.auth.SetRoster(cfg.Site.Mediators.Roster, cfg.Site.MediatorSessionIdle())
	c.log.Info("configuration in force", "content_version", cfg.ContentVersion)
	c.warnWithheld()
}

// warnWithheld says, when the configuration in force has no township
// records key, that records go out without the numbers they should carry
// (a dev kiosk, or one upgraded from before the key; kioskd also alerts
// the township from a production kiosk).
func (c *Core) warnWithheld() {
	if k := c.live().sealer; k != nil {
		c.log.Info("records seal full numbers for the township", "records_key", k.Key().ID())
		return
	}
	c.log.Warn("no township records key (records.township_key): phone and ID numbers are withheld from the records, which say so in their withheld field")
}

// HealthCheck says whether the configuration in force still lets villagers
// do what the kiosk is for: a bundle can be valid line by line and still
// leave, say, no consultation slot in the next fortnight. The township's
// rollback rests on it.
func (c *Core) HealthCheck() error {
	lc := c.live()
	now := c.now()
	m := c.Menu()
	if len(m.Services) != len(config.ServiceIDs) {
		return fmt.Errorf("core: the menu has %d services, want %d", len(m.Services), len(config.ServiceIDs))
	}
	if len(lc.planner.Slots(now)) == 0 {
		return errors.New("core: no consultation slot is offered in the booking window (advisor duty roster)")
	}
	if len(lc.cfg.Site.Content.Venues) > 0 && len(lc.rules.Slots(now)) == 0 {
		return errors.New("core: no mediation slot is offered in the booking window")
	}
	return nil
}

func (c *Core) source() record.Source {
	k := c.live().cfg.Site.Kiosk
	return record.Source{Kiosk: k.ID, Township: k.Township, Village: k.Village}
}

// Status reports the kiosk's identity, link and queue.
func (c *Core) Status() apitype.Status {
	k := c.live().cfg.Site.Kiosk
	state, since, lastErr := c.link.State()
	return apitype.Status{
		Kiosk: k.ID, Township: k.Township, Village: k.Village, Name: k.Name,
		Version:  c.version,
		Time:     c.now(),
		Broker:   apitype.BrokerStatus{State: state, Since: since, LastError: lastErr},
		Queue:    queueStatus(c.outbox.Stats()),
		IDCard:   c.readerStatus(),
		Control:  c.controlStatus(),
		Hardware: c.hardwareStatus(),
		Screen:   c.screenStatus(),
	}
}

func (c *Core) controlStatus() apitype.ControlStatus {
	s := apitype.ControlStatus{ContentVersion: c.live().cfg.ContentVersion}
	if c.lastBundle != nil {
		if o, ok := c.lastBundle(); ok {
			s.Last = &o
		}
	}
	return s
}

func (c *Core) readerStatus() apitype.ReaderStatus {
	if c.cards == nil {
		return apitype.ReaderStatus{State: apitype.ReaderDisabled}
	}
	return c.cards.Status()
}

func queueStatus(s outbox.Stats) apitype.QueueStatus {
	q := apitype.QueueStatus{Depth: s.Depth, DeadLetters: s.DeadLetters, Bytes: s.Bytes, Quota: s.Quota,
		FileBytes: s.FileBytes, Evicted: s.Evicted}
	if !s.Oldest.IsZero() {
		q.OldestAt = &s.Oldest
	}
	if !s.LastDelivery.IsZero() {
		q.LastDelivery = &s.LastDelivery
	}
	return q
}

// DeadLetters lists the records set aside.
func (c *Core) DeadLetters() (apitype.DeadLetters, error) {
	dls, err := c.outbox.DeadLetters()
	out := apitype.DeadLetters{DeadLetters: []apitype.DeadLetter{}}
	for _, d := range dls {
		out.DeadLetters = append(out.DeadLetters, apitype.DeadLetter(d))
	}
	return out, err
}

// Requeue puts a dead letter back in the queue.
func (c *Core) Requeue(seq uint64) error {
	if err := c.outbox.Requeue(seq); err != nil {
		return err
	}
	c.log.Info("dead letter requeued", "seq", seq)
	return nil
}

// Telemetry queues a telemetry record describing the queue and the link. It
// is evictable: at the quota old telemetry makes room for bookings.
func (c *Core) Telemetry(ctx context.Context) error {
	st := c.Status()
	body := schema.TelemetryV1{Version: c.version, Broker: st.Broker.State, Queue: queueV1(st.Queue)}
	if st.Hardware != nil {
		h := hardwareV1(*st.Hardware)
		body.Hardware = &h
	}
	if c.cases != nil {
		// The township sees the village's mediation indicators without
		// asking: telemetry is the record that arrives regularly.
		if ind, err := c.Indicators(); err != nil {
			c.log.Warn("telemetry without indicators", "err", err)
		} else {
			i := indicatorsV1(ind)
			body.Indicators = &i
		}
	}
	if st.Queue.OldestAt != nil {
		body.OldestAgeSeconds = int64(c.now().Sub(*st.Queue.OldestAt).Seconds())
	}
	env, err := c.newRecord(body, c.now())
	if err != nil {
		return err
	}
	_, err = c.outbox.Enqueue(ctx, env)
	return err
}

// AlertBody is something township IT must look at on this kiosk, as
// kioskd raises it; it reaches the township as an alert/v1 record.
type AlertBody struct {
	Kind    string // store_corrupt, ...
	Message string
	Detail  string
}

// Alert queues an alert record. Alerts are governance records: never evicted.
func (c *Core) Alert(ctx context.Context, a AlertBody) error {
	env, err := c.newRecord(alertV1(a), c.now())
	if err != nil {
		return err
	}
	if _, err := c.outbox.Enqueue(ctx, env); err != nil {
		return err
	}
	c.log.Warn("alert queued for the township", "kind", a.Kind, "id", env.ID)
	return nil
}

// Menu is the 513 menu from the site's content.
func (c *Core) Menu() apitype.Menu {
	ct := c.live().cfg.Site.Content
	m := apitype.Menu{KioskName: c.live().cfg.Site.Kiosk.Name, Topics: ct.Topics}
	if sc := c.live().cfg.Board.Screen; sc.Width > 0 {
		m.Panel = &apitype.Panel{Width: sc.Width, Height: sc.Height, Diagonal: sc.Diagonal}
	}
	for _, id := range config.ServiceIDs {
		s, _ := ct.ServiceByID(id)
		m.Services = append(m.Services, apitype.Service{
			ID: s.ID, Title: s.Title, Summary: s.Summary,
			Bookable: isBookable(s.ID),
			Platforms: []apitype.Platform{
				{ID: apitype.PlatformInPerson, Name: "实体", How: s.Platforms.InPerson},
				{ID: apitype.PlatformOnline, Name: "网络", How: s.Platforms.Online, URL: s.Platforms.OnlineURL},
				{ID: apitype.PlatformHotline, Name: "热线", How: s.Platforms.Hotline},
			},
		})
	}
	a := ct.Advisor
	m.Advisor = apitype.Advisor{Name: a.Name, Firm: a.Firm, Phone: a.Phone}
	for _, w := range a.Duty {
		m.Advisor.Duty = append(m.Advisor.Duty, w.String())
	}
	m.Content = c.content()
	m.IdleSeconds = int(c.live().cfg.Site.UI.Idle.Seconds())
	m.MediatorIdleSeconds = int(c.live().cfg.Site.UI.MediatorIdle.Seconds())
	m.Voice = c.live().cfg.Site.UI.VoiceOn()
	m.BookingLookup = ct.BookingLookup
	return m
}

func isBookable(service string) bool { return slices.Contains(booking.Bookable, service) }

// Slots lists the bookable slots of a service.
func (c *Core) Slots(service string) (apitype.Slots, error) {
	if service == mediation.Service {
		return apitype.Slots{Service: service, Slots: c.live().rules.Slots(c.now())}, nil
	}
	if !isBookable(service) {
		return apitype.Slots{}, &booking.FieldError{Field: "service", Code: apitype.CodeNotBookable, Msg: fmt.Sprintf("%q takes no bookings", service)}
	}
	return apitype.Slots{Service: service, Slots: c.live().planner.Slots(c.now())}, nil
}

// Book validates a booking, commits it and returns it. A *booking.FieldError
// means the request was wrong; any other error means it was not stored.
func (c *Core) Book(ctx context.Context, req apitype.BookingRequest) (apitype.Booking, error) {
	now := c.now()
	var id Identity
	if req.Card != "" {
		var err error
		if id, err = c.cardRead(req.Card); err != nil {
			return apitype.Booking{}, err
		}
		req.Name = id.Name // the card's name, not whatever was typed
	}
	breq := booking.Request{Service: req.Service, Topic: req.Topic, Name: req.Name, Phone: req.Phone, Slot: req.Slot}
	for _, a := range req.Checkup {
		breq.Checkup = append(breq.Checkup, booking.RequestAnswer{Question: a.Question, Yes: a.Yes})
	}
	lv := c.live()
	body, err := lv.planner.Validate(breq, now)
	if err != nil {
		return apitype.Booking{}, err
	}
	// The card proved the name; its ID number stays on the kiosk.
	env, err := c.newSealedRecord(lv, now, func(s *sealer) schema.Body { return bookingV2(body, s) })
	if err != nil {
		return apitype.Booking{}, err
	}
	// The booking is counted for the indicators in its own commit.
	env, err = c.outbox.Enqueue(ctx, env, tallyBookings+body.Service)
	if err != nil {
		return apitype.Booking{}, err
	}
	if req.Card != "" {
		c.cards.Forget(req.Card)
	}
	// Never log the name or the numbers: the id is enough to trace the record.
	c.log.Info("booking committed", "id", env.ID, "seq", env.Seq, "service", body.Service, "slot", body.Slot, "with_card", req.Card != "")
	number := BookingNumber(env.Seq)
	// Only now that the record is on disk (see rememberReceipt), made with
	// the configuration the booking was validated under. The receipt is
	// built later, so it keeps only what a receipt shows: the name, ID
	// number and full phone must not outlive the commit in the cache, as
	// the card itself does not (Forget above).
	rb := booking.Booking{Service: body.Service, Topic: body.Topic, Slot: body.Slot, Advisor: body.Advisor, Phone: phone.Mask(body.Phone)}
	c.receipts.putLater(env.ID, func() Receipt { return lv.bookingReceipt(number, rb) }, c.now())
	return apitype.Booking{
		ID: env.ID, Seq: env.Seq, Number: number,
		Service: body.Service, Topic: body.Topic, Name: body.Name, Phone: phone.Mask(body.Phone),
		Slot: body.Slot, Created: env.TS, Advisor: body.Advisor, IDMasked: id.IDMasked,
	}, nil
}

// cardRead is the identity on the card the reader read last, by its token;
// a FieldError on field card when the token is unknown, used or too old.
func (c *Core) cardRead(token string) (Identity, error) {
	if c.cards != nil {
		if id, ok := c.cards.Lookup(token); ok {
			return id, nil
		}
	}
	return Identity{}, &booking.FieldError{Field: "card", Code: apitype.CodeCardExpired, Msg: "the card was read too long ago; tap it again"}
}

// BookingNumber is the short number a villager quotes when they phone or come
// back: the record's per-kiosk sequence, which the township also sees.
func BookingNumber(seq uint64) string {
	var b [20]byte
	n := strconv.AppendUint(b[:0], seq, 10)
	if len(n) >= 5 {
		return string(n)
	}
	return "00000"[len(n):] + string(n) // as fmt's %05d, without fmt
}
