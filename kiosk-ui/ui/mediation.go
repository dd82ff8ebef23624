package ui

import (
	"context"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/kiosk-ui/wording"
)

// stepWho asks the mediation applicant's name and phone on one screen.
const stepWho = "who"

func (u *UI) startMediation() { u.startFlow(mediationService, mediationSteps, nil) }

// mediationVenue is where a kiosk booking goes: the site names it (GET
// /v1/menu content.booking_venue) and kioskd records it, so the villager is
// not asked to choose between venues they cannot tell apart.
func (u *UI) mediationVenue() (apitype.Venue, bool) {
	for _, v := range u.menu.Content.Venues {
		if v.ID == u.menu.Content.BookingVenue {
			return v, true
		}
	}
	return apitype.Venue{}, false
}

// flowStep is the step of the flow under way that asks what step id asks:
// the mediation booking takes name and phone on one step, and the other
// party and the venue on its confirmation.
func (u *UI) flowStep(id string) string {
	steps := u.draft.steps
	if slices.Contains(steps, id) {
		return id
	}
	switch id {
	case stepName, stepPhone:
		if slices.Contains(steps, stepWho) {
			return stepWho
		}
	case stepOther, stepVenue:
		return stepConfirm
	}
	return id
}

func (u *UI) showCategory() {
	grid := u.grid(4)
	for _, c := range u.menu.Content.Categories {
		grid.Add(newPictoChoice(c, categoryPictogram(c), u.draft.category == c, func() {
			u.touch()
			u.draft.category = c
			u.next(stepCategory)
		}))
	}
	u.step(stepCategory, u.t(wording.MediationCategoryTitle), grid)
}

// showWho asks who the villager is and their phone on one step: a card on
// the reader answers the first half, so with a card it is only the number.
func (u *UI) showWho() {
	p := &u.draft.who
	if !p.named() {
		u.step(stepWho, u.t(wording.MediationWhoTitle), u.nameChooser(p, u.t(wording.IdentityTapCard), u.showWho, u.showWho))
		return
	}
	// Who it is stands beside the number (in landscape) rather than
	// above the pad, which on a 1280×800 panel in larger text must start
	// high to end above the fold.
	var who fyne.CanvasObject
	if c := p.card; c != nil {
		who = widget.NewLabel(u.tf(wording.MediationCardRead, wording.Args{"name": c.Name}))
	} else {
		who = container.NewVBox(widget.NewLabel(u.tf(wording.MediationYourName, wording.Args{"name": p.name()})),
			widget.NewButton(u.t(wording.MediationRename), func() { p.surname, p.honorific = "", ""; u.showWho() }))
	}
	u.step(stepWho, u.t(wording.MediationPhoneTitle),
		u.phoneEntryWith(p, who, func(e string) { u.fail(stepWho, e) }, func() { u.next(stepWho) }))
}

// showOther takes the other party, which the villager may add on the
// confirmation: by surname, honorific and phone only — the villager may not
// know more, and need not say. It is not a step of its own: most villagers
// leave it to the mediator, who calls them first and then the other side.
func (u *UI) showOther() {
	d := &u.draft
	remove := widget.NewButton(u.t(wording.MediationNoOther), func() { d.other, d.otherDone = nil, false; u.showConfirm() })
	if !d.other.named() {
		u.step(stepConfirm, u.t(wording.MediationOtherTitle), container.NewVBox(
			u.nameChooser(d.other, u.t(wording.MediationOtherHint), u.showOther, u.showOther), remove))
		return
	}
	u.step(stepConfirm, u.tf(wording.MediationOtherPhoneTitle, wording.Args{"name": d.other.name()}), container.NewVBox(
		u.phoneEntry(d.other, func(e string) { u.fail(stepOther, e) }, func() { d.otherDone = true; u.showConfirm() }),
		remove))
}

// showMediationConfirm is the last step: what will be booked, where, and
// an optional way to name the other party.
func (u *UI) showMediationConfirm() {
	d := &u.draft
	if d.other != nil && !d.otherDone {
		u.showOther()
		return
	}
	// Short facts two to a row and the actions on one row, so that on a
	// 1280×800 panel 确认预约 stands above the fold.
	facts := u.grid(2)
	facts.Add(widget.NewLabel(u.tf(wording.MediationFactCategory, wording.Args{"category": d.category})))
	facts.Add(widget.NewLabel(u.tf(wording.MediationFactName, wording.Args{"name": d.who.name()})))
	facts.Add(widget.NewLabel(u.tf(wording.MediationFactPhone, wording.Args{"phone": phoneGroups(d.who.phone)})))
	if d.who.card != nil {
		facts.Add(widget.NewLabel(u.tf(wording.MediationFactID, wording.Args{"id": d.who.card.IDMasked})))
	}
	rows := container.NewVBox(facts, paragraph(u.tf(wording.MediationFactTimes, wording.Args{"times": u.preferredLabel(d.prefer)})))
	if v, ok := u.mediationVenue(); ok {
		rows.Add(paragraph(u.tf(wording.MediationFactVenue, wording.Args{"venue": venueLabel(v)})))
	}
	actions := u.grid(3)
	if d.other == nil {
		actions.Add(widget.NewButton(u.t(wording.MediationAddOther), func() { d.other = &person{}; u.showOther() }))
	} else {
		rows.Add(paragraph(u.tf(wording.MediationFactOther, wording.Args{"name": d.other.name(), "phone": phoneGroups(d.other.phone)})))
		actions.Add(widget.NewButton(u.t(wording.MediationEditOther), func() { d.other, d.otherDone = &person{}, false; u.showOther() }))
		actions.Add(widget.NewButton(u.t(wording.MediationNoOther), func() { d.other, d.otherDone = nil, false; u.showConfirm() }))
	}
	confirm := primary(u.t(wording.BookingConfirm), u.submit)
	if d.submitting {
		confirm.SetText(u.t(wording.MediationSaving))
		confirm.Disable()
	}
	actions.Add(confirm)
	rows.Add(actions)
	u.step(stepConfirm, u.t(wording.MediationConfirmTitle), rows)
}

func venueLabel(v apitype.Venue) string {
	if v.Where == "" {
		return v.Name
	}
	return v.Name + "（" + v.Where + "）"
}

// showPrefer offers half-day sessions over the coming days; the villager
// ticks up to three and the mediator arranges one of them.
func (u *UI) showPrefer() {
	if u.draft.slots == nil {
		u.loadSlots(stepPrefer)
		return
	}
	d := &u.draft
	rows := container.NewVBox(paragraph(u.tf(wording.MediationPreferHint, wording.Args{"n": maxPreferred})))
	for _, first := range u.days() {
		day := first.Format(time.DateOnly)
		row := u.grid(4)
		for _, s := range d.slots {
			if s.Format(time.DateOnly) != day {
				continue
			}
			chosen := containsTime(d.prefer, s)
			row.Add(choice(dayLabel(s)+" "+u.sessionName(s), chosen, func() {
				u.touch()
				switch {
				case chosen:
					d.prefer = removeTime(d.prefer, s)
				case len(d.prefer) < maxPreferred:
					d.prefer = append(d.prefer, s)
				default:
					d.err = u.tf(wording.MediationPreferTooMany, wording.Args{"n": maxPreferred})
				}
				u.showPrefer()
				d.err = ""
			}))
		}
		rows.Add(row)
	}
	rows.Add(primary(u.t(wording.BookingNext), func() {
		if len(d.prefer) == 0 {
			u.fail(stepPrefer, u.t(wording.MediationPreferNone))
			return
		}
		u.next(stepPrefer)
	}))
	u.step(stepPrefer, u.t(wording.MediationPreferTitle), rows)
}

func (u *UI) submitMediation(d draft) {
	// No venue: kioskd books the site's venue for kiosk bookings.
	req := apitype.MediationRequest{Category: d.category, Applicant: d.who.party()}
	if d.other != nil {
		o := d.other.party()
		req.Other = &o
	}
	for _, s := range d.prefer {
		req.Slots = append(req.Slots, s.Format(time.RFC3339))
	}
	call(u, func(ctx context.Context) (apitype.Mediation, error) { return u.opts.Agent.BookMediation(ctx, req) },
		func(m apitype.Mediation, err error) {
			if !u.draft.active {
				return
			}
			u.draft.submitting = false
			if err != nil {
				u.bookingFailed(err)
				return
			}
			u.draft = draft{}
			u.showDone(receipt{id: m.ID, number: m.Number, lines: []string{
				u.tf(wording.MediationReceiptVenue, wording.Args{"venue": venueLabel(m.Venue)}),
				u.tf(wording.MediationReceiptTimes, wording.Args{"times": u.preferredLabel(m.Slots)}),
				u.tf(wording.MediationReceiptCall, wording.Args{"phone": m.Applicant.Phone}),
			}})
		})
}

// sessionName names a half-day session by its start.
func (u *UI) sessionName(t time.Time) string {
	switch h := t.Hour(); {
	case h < 12:
		return u.t(wording.MediationMorning)
	case h < 18:
		return u.t(wording.MediationAfternoon)
	default:
		return u.t(wording.MediationEvening)
	}
}

func (u *UI) preferredLabel(ts []time.Time) string {
	var out []string
	for _, t := range ts {
		out = append(out, dayLabel(t)+" "+u.sessionName(t))
	}
	return strings.Join(out, "、")
}

func containsTime(ts []time.Time, t time.Time) bool {
	for _, x := range ts {
		if x.Equal(t) {
			return true
		}
	}
	return false
}

func removeTime(ts []time.Time, t time.Time) []time.Time {
	var out []time.Time
	for _, x := range ts {
		if !x.Equal(t) {
			out = append(out, x)
		}
	}
	return out
}
