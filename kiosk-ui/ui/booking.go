package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// Services the flows book.
const (
	advisorService   = "legal-advisor"
	checkupService   = "legal-checkup"
	mediationService = "mediation"
)

// Step ids. A flow is a list of them; a step's number and its way back
// follow from its place in the list.
const (
	stepTopic    = "topic"
	stepDay      = "day"
	stepTime     = "time"
	stepName     = "name"
	stepPhone    = "phone"
	stepConfirm  = "confirm"
	stepVenue    = "venue"
	stepCategory = "category"
	stepOther    = "other"
	stepPrefer   = "prefer"
)

// Flows, as their steps.
var (
	consultSteps   = []string{stepTopic, stepDay, stepTime, stepName, stepPhone, stepConfirm}
	checkupSteps   = []string{stepDay, stepTime, stepName, stepPhone, stepConfirm}
	mediationSteps = []string{stepCategory, stepWho, stepPrefer, stepConfirm}
)

// maxPreferred is how many preferred slots a mediation booking offers.
const maxPreferred = 3

// draft is a booking being entered. It holds a villager's name and number,
// so it is wiped whenever the flow ends, succeeds, or is left idle.
type draft struct {
	active  bool
	steps   []string
	stepID  string // the step on screen, so a card tap can redraw it
	service string

	// consultation and check-up
	topic   string
	checkup []apitype.CheckupAnswer
	slots   []time.Time // offered by kioskd
	day     string      // 2006-01-02 of the chosen day
	slot    time.Time

	// mediation
	category  string
	other     *person // the other party, if the villager names them
	otherDone bool    // the other party's name and phone are entered
	prefer    []time.Time

	who        person
	err        string // shown on the current step
	submitting bool
}

func (u *UI) startBooking() { u.startFlow(advisorService, consultSteps, nil) }

// startFlow begins a booking of service through steps, keeping a card
// already tapped.
func (u *UI) startFlow(service string, steps []string, checkup []apitype.CheckupAnswer) {
	card := u.draft.who.card
	if !u.draft.active {
		card = nil
	}
	u.draft = draft{active: true, service: service, steps: steps, checkup: checkup}
	u.draft.who.card = card
	if service == checkupService {
		u.draft.topic = "法律体检"
	}
	u.drawStep(steps[0])
}

func (u *UI) drawStep(id string) {
	switch id {
	case stepTopic:
		u.showTopic()
	case stepDay:
		u.showDay()
	case stepTime:
		u.showTime()
	case stepName:
		u.showName()
	case stepPhone:
		u.showPhone()
	case stepConfirm:
		u.showConfirm()
	case stepWho:
		u.showWho()
	case stepCategory:
		u.showCategory()
	case stepOther:
		u.showOther()
	case stepPrefer:
		u.showPrefer()
	}
}

// next shows the step after id. A villager whose card was read skips the
// name step: the card has answered it.
func (u *UI) next(id string) {
	i := slices.Index(u.draft.steps, id)
	n := u.draft.steps[i+1]
	if n == stepName && u.draft.who.card != nil {
		n = u.draft.steps[i+2]
	}
	u.draft.err = ""
	u.drawStep(n)
}

// step lays out one step of the flow: title, any error, the content, and the
// way back.
func (u *UI) step(id, title string, content fyne.CanvasObject) {
	u.draft.stepID = id
	steps := u.draft.steps
	n := slices.Index(steps, id)
	top := []fyne.CanvasObject{u.newStepIndicator(steps, n), u.tight(heading(title))}
	if c := u.draft.who.card; c != nil && id != stepName && id != stepWho {
		top = append(top, paragraph(u.tf(wording.IdentityCardRead, wording.Args{"name": c.Name, "id": c.IDMasked})))
	}
	speech := title
	if u.draft.err != "" {
		top = append(top, errorText(u.draft.err))
		speech = strings.TrimSuffix(u.draft.err, "。") + "。" + title
	}
	// One way home on every step: the first has only that; the others
	// also go back a step.
	var nav []fyne.CanvasObject
	if n > 0 {
		prev := steps[n-1]
		nav = append(nav, widget.NewButton(u.t(wording.BookingBack), func() { u.draft.err = ""; u.drawStep(prev) }))
	}
	nav = append(nav, widget.NewButton(u.t(wording.BookingCancel), u.goHome))
	u.frame(top, content, nav, speech, func() { u.drawStep(id) })
}

// fail shows err on step id, or on the step of this flow that asks it.
func (u *UI) fail(id, err string) {
	u.draft.err = err
	u.drawStep(u.flowStep(id))
}

func (u *UI) showTopic() {
	grid := u.grid(3)
	for _, t := range u.menu.Topics {
		grid.Add(choice(t, u.draft.topic == t, func() {
			u.draft.topic = t
			u.next(stepTopic)
		}))
	}
	u.step(stepTopic, u.t(wording.BookingTopicTitle), grid)
}

// loadSlots asks kioskd for the service's slots, then draws step id again.
// The placeholder carries the step's own title, so that the step is
// announced once, as it appears, and not again when the slots arrive.
func (u *UI) loadSlots(id string) {
	service := u.draft.service
	u.step(id, u.slotsTitle(id), widget.NewLabel(u.t(wording.BookingLoadingSlots)))
	call(u, func(ctx context.Context) (apitype.Slots, error) { return u.opts.Agent.Slots(ctx, service) },
		func(s apitype.Slots, err error) {
			if !u.draft.active || u.draft.service != service {
				return // the villager left while we were asking
			}
			if err != nil {
				u.draft.err = u.failureText(err)
				u.step(id, u.slotsTitle(id), widget.NewButton(u.t(wording.BookingRetrySlots), func() { u.draft.err = ""; u.loadSlots(id) }))
				return
			}
			u.draft.slots = append([]time.Time{}, s.Slots...)
			u.drawStep(id)
		})
}

// slotsTitle is the title of the step that waits for slots.
func (u *UI) slotsTitle(id string) string {
	if id == stepPrefer {
		return u.t(wording.MediationPreferTitle)
	}
	return u.t(wording.BookingDayTitle)
}

// days lists the distinct days of the offered slots, in order.
func (u *UI) days() []time.Time {
	var out []time.Time
	seen := map[string]bool{}
	for _, s := range u.draft.slots {
		if d := s.Format(time.DateOnly); !seen[d] {
			seen[d] = true
			out = append(out, s)
		}
	}
	return out
}

func (u *UI) showDay() {
	if u.draft.slots == nil {
		u.loadSlots(stepDay)
		return
	}
	grid := u.grid(3)
	for _, first := range u.days() {
		day := first.Format(time.DateOnly)
		grid.Add(choice(dayLabel(first), u.draft.day == day, func() {
			u.draft.day = day
			u.next(stepDay)
		}))
	}
	var content fyne.CanvasObject = grid
	if len(grid.Objects) == 0 {
		content = paragraph(u.t(wording.BookingNoSlots))
	}
	u.step(stepDay, u.t(wording.BookingDayTitle), content)
}

func (u *UI) showTime() {
	grid := u.grid(4)
	for _, s := range u.draft.slots {
		if s.Format(time.DateOnly) != u.draft.day {
			continue
		}
		grid.Add(choice(s.Format("15:04"), s.Equal(u.draft.slot), func() {
			u.draft.slot = s
			u.next(stepTime)
		}))
	}
	day, _ := time.Parse(time.DateOnly, u.draft.day)
	u.step(stepTime, u.tf(wording.BookingTimeTitle, wording.Args{"day": dayLabel(day)}), grid)
}

func (u *UI) showName() {
	u.step(stepName, u.t(wording.BookingNameTitle), u.nameChooser(&u.draft.who, u.t(wording.IdentityTapCard), u.showName, func() { u.next(stepName) }))
}

// showPhone takes the number on an on-screen keypad: a kiosk has no keyboard.
func (u *UI) showPhone() {
	u.step(stepPhone, u.t(wording.BookingPhoneTitle), u.phoneEntry(&u.draft.who,
		func(e string) { u.fail(stepPhone, e) }, func() { u.next(stepPhone) }))
}

func (u *UI) showConfirm() {
	d := &u.draft
	if d.service == mediationService {
		u.showMediationConfirm()
		return
	}
	rows := container.NewVBox()
	rows.Add(paragraph(u.tf(wording.BookingFactTopic, wording.Args{"topic": d.topic})))
	rows.Add(paragraph(u.tf(wording.BookingFactTime, wording.Args{"time": slotLabel(d.slot)})))
	rows.Add(paragraph(u.tf(wording.BookingFactLawyer, wording.Args{"name": u.menu.Advisor.Name})))
	rows.Add(paragraph(u.tf(wording.BookingFactName, wording.Args{"name": d.who.name()})))
	rows.Add(paragraph(u.tf(wording.BookingFactPhone, wording.Args{"phone": d.who.phone})))
	if d.who.card != nil {
		rows.Add(paragraph(u.tf(wording.BookingFactID, wording.Args{"id": d.who.card.IDMasked})))
	}
	confirm := primary(u.t(wording.BookingConfirm), u.submit)
	if d.submitting {
		confirm.SetText(u.t(wording.BookingSaving))
		confirm.Disable()
	}
	rows.Add(confirm)
	u.step(stepConfirm, u.t(wording.BookingConfirmTitle), rows)
}

// submit books the draft. The confirmation screen appears only after kioskd
// answers 201, which it does only after the record is on disk.
func (u *UI) submit() {
	if u.draft.submitting {
		return // a second tap while the first is saving must not book twice
	}
	u.draft.submitting = true
	u.draft.err = ""
	u.showConfirm()
	d := u.draft
	if d.service == mediationService {
		u.submitMediation(d)
		return
	}
	req := apitype.BookingRequest{
		Service: d.service, Topic: d.topic, Name: d.who.name(),
		Phone: d.who.phone, Slot: d.slot.Format(time.RFC3339), Checkup: d.checkup,
	}
	if d.who.card != nil {
		req.Card, req.Name = d.who.card.Token, ""
	}
	call(u, func(ctx context.Context) (apitype.Booking, error) { return u.opts.Agent.Book(ctx, req) },
		func(b apitype.Booking, err error) {
			if !u.draft.active {
				return
			}
			u.draft.submitting = false
			if err != nil {
				u.bookingFailed(err)
				return
			}
			u.draft = draft{} // the record is in kioskd; the screen keeps no personal data
			// Offline, the lawyer does not know yet: the screen says so
			// in place of where and when they will wait.
			u.showDone(receipt{id: b.ID, number: b.Number, lines: []string{
				u.tf(wording.BookingWaits, wording.Args{"lawyer": b.Advisor, "time": slotLabel(b.Slot), "phone": b.Phone}),
			}, offline: []string{u.t(wording.BookingWaitsOffline)}})
		})
}

// bookingFailed sends the villager back to the step that needs fixing.
func (u *UI) bookingFailed(err error) {
	var apiErr *localclient.APIError
	if !errors.As(err, &apiErr) || apiErr.Field == "" {
		u.opts.Log.Warn("booking not saved", "err", err)
		u.fail(stepConfirm, u.failureText(err))
		return
	}
	field := apiErr.Field
	switch {
	case field == "card" || strings.HasSuffix(field, ".card"):
		u.draft.who.card = nil
		u.fail(stepName, u.t(wording.BookingFailCard))
	case field == "topic":
		u.fail(stepTopic, u.t(wording.BookingFailTopic))
	case field == "slot" || strings.HasPrefix(field, "slots"): // slots[N] names one of a mediation's
		u.draft.slots, u.draft.prefer = nil, nil
		if u.draft.service == mediationService {
			u.fail(stepPrefer, u.t(wording.BookingFailSlot))
		} else {
			u.fail(stepDay, u.t(wording.BookingFailSlot))
		}
	case field == "name" || strings.HasSuffix(field, ".name"):
		u.fail(stepName, u.t(wording.BookingFailName))
	case field == "phone" || field == "applicant.phone":
		u.fail(stepPhone, u.t(wording.BookingFailPhone))
	case strings.HasPrefix(field, "other"):
		u.fail(stepOther, u.t(wording.BookingFailOther))
	case field == "venue":
		u.fail(stepVenue, u.t(wording.BookingFailVenue))
	case field == "category":
		u.fail(stepCategory, u.t(wording.BookingFailCategory))
	default:
		u.opts.Log.Warn("booking refused", "field", apiErr.Field, "code", apiErr.Code)
		u.fail(stepConfirm, u.t(wording.BookingFailField))
	}
}
