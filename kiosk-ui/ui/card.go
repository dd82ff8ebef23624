package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// cardPollWait is how long one long-poll for card events waits in kioskd.
const cardPollWait = 25 * time.Second

// WatchCards long-polls kioskd for ID-card events until ctx ends and applies
// each on the UI thread. While kioskd is unreachable it retries every few
// seconds; a card tapped meanwhile is simply tapped again.
func (u *UI) WatchCards(ctx context.Context) {
	var after uint64
	for ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(ctx, cardPollWait+u.opts.CallTimeout)
		evs, err := u.opts.Agent.CardEvents(cctx, after, cardPollWait)
		cancel()
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(3 * time.Second):
			}
			continue
		}
		after = evs.Next
		for _, ev := range evs.Events {
			fyne.Do(func() { u.onCardEvent(ev) })
		}
	}
}

// onCardEvent fills the booking with the card's identity. A tap on any other
// screen starts a booking, because identifying oneself is the usual first
// thing a villager does at the kiosk.
func (u *UI) onCardEvent(ev apitype.CardEvent) {
	if ev.Kind != apitype.CardRead || ev.Card == nil || u.draft.submitting {
		return
	}
	if !u.hasMenu {
		return
	}
	if !u.draft.active {
		u.startBooking()
	}
	c := *ev.Card
	u.draft.card = &c
	u.draft.name = c.Name
	u.draft.err = ""
	switch u.draft.stepNo {
	case 4: // the name step is what the card answers
		u.showPhone()
	default:
		u.redrawStep()
	}
}

// redrawStep shows the current step again, with the card's identity on it.
func (u *UI) redrawStep() {
	switch u.draft.stepNo {
	case 1:
		u.showTopic()
	case 2:
		u.showDay()
	case 3:
		u.showTime()
	case 4:
		u.showName()
	case 5:
		u.showPhone()
	case 6:
		u.showConfirm()
	}
}
