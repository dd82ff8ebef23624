package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/internal/phone"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/mediation"
)

// Speaker reads text aloud. Speak returns once speech has started; a new
// call cuts off the last one.
type Speaker interface {
	Speak(text string) error
	Status() apitype.DeviceStatus
}

// Printer prints receipts. Print returns once the receipt's bytes are
// written to the printer.
type Printer interface {
	Print(ctx context.Context, r Receipt) error
	Status() apitype.DeviceStatus
}

// Receipt is what the printer prints for a confirmation. Its fields are
// those of escpos.Receipt, so kioskd converts one into the other.
type Receipt struct {
	Title  string
	Lines  []string
	QR     string
	Footer string
}

// Errors of Speak and Print.
var (
	// ErrNoDevice: the kiosk has no such device, or it is not working.
	ErrNoDevice = errors.New("core: no such device on this kiosk")
	// ErrNoReceipt: the id is not a confirmation made here in the last
	// ReceiptTTL (or it has been pushed out by ReceiptsKept newer ones).
	ErrNoReceipt = errors.New("core: no recent confirmation with that id")
)

// MaxSpeakRunes bounds the text of one read-aloud request: a screen's
// worth, not a document (speech.MaxRunes is the same bound).
const MaxSpeakRunes = 500

// Receipts are kept in memory only, for a villager who taps "print" on the
// confirmation screen; they are never written to disk, so the masked phone
// number on them does not outlive the kiosk's memory.
const (
	ReceiptTTL   = 10 * time.Minute
	ReceiptsKept = 32
)

func deviceStatus(d interface{ Status() apitype.DeviceStatus }) apitype.DeviceStatus {
	if d == nil {
		return apitype.DeviceStatus{State: apitype.DeviceAbsent}
	}
	return d.Status()
}

// Devices reports the optional devices, so the screen shows a print or
// read-aloud button only when it can work.
func (c *Core) Devices() apitype.Devices {
	s, p := c.speaker, c.printer
	d := apitype.Devices{Speech: deviceStatus(s), Printer: deviceStatus(p), Camera: apitype.DeviceStatus{State: apitype.DeviceAbsent}}
	if c.hardware != nil {
		d.Camera = c.hardware.PhotoCamera()
	}
	return d
}

// Speak starts reading text aloud. A *booking.FieldError means the text is
// empty or too long; ErrNoDevice that the kiosk cannot speak.
func (c *Core) Speak(text string) error {
	if strings.TrimSpace(text) == "" {
		return &booking.FieldError{Field: "text", Code: apitype.CodeRequired, Msg: "nothing to read aloud"}
	}
	if n := utf8.RuneCountInString(text); n > MaxSpeakRunes {
		return &booking.FieldError{Field: "text", Code: apitype.CodeTooLong, Msg: fmt.Sprintf("is %d characters; at most %d are read aloud", n, MaxSpeakRunes)}
	}
	s := c.speaker
	if st := deviceStatus(s); st.State == apitype.DeviceAbsent {
		return fmt.Errorf("%w: no read-aloud (espeak-ng is not installed)", ErrNoDevice)
	}
	if err := s.Speak(text); err != nil {
		return fmt.Errorf("%w: read-aloud failed: %v", ErrNoDevice, err)
	}
	return nil
}

// Print prints the receipt of a recent confirmation, by its record id, and
// returns once the printer has its bytes.
func (c *Core) Print(ctx context.Context, id string) error {
	p := c.printer
	if st := deviceStatus(p); st.State == apitype.DeviceAbsent {
		return fmt.Errorf("%w: no printer", ErrNoDevice)
	}
	r, taken, ok := c.receipts.get(id, c.now())
	if !ok {
		return ErrNoReceipt
	}
	if err := p.Print(ctx, r); err != nil {
		// A receipt printed only once (an anonymous report's check code,
		// which the kiosk does not keep) goes back for another try: a
		// jam or an empty roll must not cost the villager the only copy.
		c.receipts.putBack(taken)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: the printer failed: %v", ErrNoDevice, err)
	}
	c.log.Info("receipt printed", "id", id)
	return nil
}

// rememberReceipt keeps the receipt of a confirmation just committed, for
// POST /v1/print. Call it only after the record is on disk: a receipt must
// never promise a booking the kiosk has not stored.
func (c *Core) rememberReceipt(id string, r Receipt) {
	c.receipts.put(id, r, c.now())
}

// receiptCache holds the last ReceiptsKept receipts for ReceiptTTL. Its
// zero value is ready.
type receiptCache struct {
	mu      sync.Mutex
	entries []receiptEntry // oldest first
}

type receiptEntry struct {
	id      string
	receipt Receipt
	build   func() Receipt // if set, the receipt, made when it is asked for
	once    bool           // printed once, then forgotten (a check code's)
	at      time.Time
}

func (rc *receiptCache) put(id string, r Receipt, now time.Time) {
	rc.add(receiptEntry{id: id, receipt: r, at: now})
}

// putLater keeps a receipt that build makes if it is printed: most are
// not, and making one (the lines, the slot's time, the QR code's address)
// cost a booking a dozen allocations on its way to its answer.
func (rc *receiptCache) putLater(id string, build func() Receipt, now time.Time) {
	rc.add(receiptEntry{id: id, build: build, at: now})
}

// putOnce keeps a receipt that may be printed once: an anonymous report's
// carries its check code, which the kiosk does not keep.
func (rc *receiptCache) putOnce(id string, r Receipt, now time.Time) {
	rc.add(receiptEntry{id: id, receipt: r, at: now, once: true})
}

func (rc *receiptCache) add(e receiptEntry) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.expireLocked(e.at)
	rc.entries = append(rc.entries, e)
	if n := len(rc.entries) - ReceiptsKept; n > 0 {
		clear(rc.entries[:n]) // let the dropped receipts' text be collected
		rc.entries = rc.entries[n:]
	}
}

// get returns the receipt of id. A receipt printed only once is taken out
// (so two prints at once cannot both have it) and returned as taken too,
// for putBack if its printing fails.
func (rc *receiptCache) get(id string, now time.Time) (r Receipt, taken *receiptEntry, ok bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.expireLocked(now)
	for i, e := range rc.entries {
		if e.id == id {
			if e.once {
				rc.entries = slices.Delete(rc.entries, i, i+1)
				taken = &e
			}
			if e.build != nil {
				return e.build(), taken, true
			}
			return e.receipt, taken, true
		}
	}
	return Receipt{}, nil, false
}

// putBack returns a receipt taken by get, with its first time, so it
// still expires when it would have; nil is a receipt that was not taken.
func (rc *receiptCache) putBack(e *receiptEntry) {
	if e == nil {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	i, _ := slices.BinarySearchFunc(rc.entries, e.at, func(x receiptEntry, at time.Time) int { return x.at.Compare(at) })
	rc.entries = slices.Insert(rc.entries, i, *e)
}

func (rc *receiptCache) expireLocked(now time.Time) {
	i := 0
	for i < len(rc.entries) && now.Sub(rc.entries[i].at) >= ReceiptTTL {
		i++
	}
	if i > 0 {
		clear(rc.entries[:i])
		rc.entries = rc.entries[i:]
	}
}

// bookingReceipt is the receipt of an advisor booking: what the villager
// needs to come back (number, service, time, advisor) and nothing that
// identifies them beyond a masked phone number. Never the name, the full
// phone or the ID number: a receipt is left on tables and in bins.
func (c *Core) bookingReceipt(number string, b booking.Booking) Receipt {
	return c.live().bookingReceipt(number, b)
}

// bookingReceipt is the receipt under the configuration lv.
func (lv *liveConfig) bookingReceipt(number string, b booking.Booking) Receipt {
	service := b.Service
	if s, ok := lv.cfg.Site.Content.ServiceByID(b.Service); ok {
		service = s.Title
	}
	if b.Topic != "" {
		service += " · " + b.Topic
	}
	lines := []string{
		"预约号：" + number,
		"服务：" + service,
		"时间：" + lv.receiptTime(b.Slot),
	}
	if b.Advisor != "" {
		lines = append(lines, "顾问："+b.Advisor)
	}
	if b.Phone != "" {
		lines = append(lines, "电话："+phone.Mask(b.Phone))
	}
	return Receipt{Title: "预约回执", Lines: lines, QR: lv.lookupURL(number), Footer: lv.cfg.Site.Kiosk.Name}
}

// mediationReceipt is the receipt of a mediation booking: the number, the
// venue and the preferred times, for the villager to show when the
// mediator calls. As with bookingReceipt, no name, full phone or ID number.
func (c *Core) mediationReceipt(number string, b mediation.Booking) Receipt {
	lines := []string{
		"预约号：" + number,
		"服务：预约调解 · " + b.Category,
		"地点：" + b.Venue.Name,
	}
	if b.Venue.Where != "" {
		lines = append(lines, "　　　"+b.Venue.Where)
	}
	for i, s := range b.Slots {
		label := "希望时间："
		if i > 0 {
			label = "　　　　　"
		}
		lines = append(lines, label+c.receiptTime(s))
	}
	if p := b.Applicant.Phone; p != "" {
		lines = append(lines, "电话："+phone.Mask(p))
	}
	lines = append(lines, "调解员会打电话和您约定时间。")
	return Receipt{Title: "调解预约回执", Lines: lines, QR: c.lookupURL(number), Footer: c.live().cfg.Site.Kiosk.Name}
}

// lookupURL is what a receipt's QR code holds: the township's page for
// this booking. A site without one gets no QR code: a code that a phone
// shows as bare text only confuses.
func (c *Core) lookupURL(number string) string { return c.live().lookupURL(number) }

func (lv *liveConfig) lookupURL(number string) string {
	return lv.cfg.Site.Content.BookingLookupURL(number)
}

// receiptTime is a slot as a receipt prints it, in the site's time zone.
func (c *Core) receiptTime(t time.Time) string { return c.live().receiptTime(t) }

func (lv *liveConfig) receiptTime(t time.Time) string {
	t = t.In(lv.cfg.Location)
	return fmt.Sprintf("%d年%d月%d日 %s %s", t.Year(), t.Month(), t.Day(),
		[...]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}[t.Weekday()], t.Format("15:04"))
}
