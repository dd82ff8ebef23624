package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// cardPollWait is how long one long-poll for card events waits in kioskd.
const cardPollWait = 55 * time.Second

// WatchCards long-polls kioskd for ID-card events until ctx ends and applies
// each on the UI thread. While kioskd is unreachable it retries every few
// seconds; a card tapped meanwhile is simply tapped again.
func (u *UI) WatchCards(ctx context.Context) {
	var after uint64
	longPoll(ctx, u, func(ctx context.Context) error {
		evs, err := u.opts.Agent.CardEvents(ctx, after, cardPollWait)
		if err != nil {
			return err
		}
		after = evs.Next
		for _, ev := range evs.Events {
			fyne.Do(func() { u.onCardEvent(ev) })
		}
		return nil
	})
}

// longPoll calls poll, one long-poll of kioskd, until ctx is done; after a
// failure (kioskd restarting) it waits a moment before asking again.
func longPoll(ctx context.Context, u *UI, poll func(ctx context.Context) error) {
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, cardPollWait+u.opts.CallTimeout)
		err := poll(pctx)
		cancel()
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(3 * time.Second):
			}
		}
	}
}

// onCardEvent hands a card read to whoever is waiting for one: mediator
// sign-in, a mediator's session form, or a villager's booking. A tap on any
// other screen starts a consultation booking, because identifying oneself is
// the usual first thing a villager does at the kiosk.
func (u *UI) onCardEvent(ev apitype.CardEvent) {
	if ev.Kind == apitype.CardRead {
		u.wake()
	}
	if ev.Kind != apitype.CardRead || ev.Card == nil || u.draft.submitting || !u.hasMenu {
		return
	}
	c := *ev.Card
	if u.med.onCard(u, &c) || u.requestCard(&c) || u.pointsCard(&c) {
		return
	}
	if !u.draft.active {
		u.startBooking()
	}
	u.draft.who.card = &c
	u.draft.err = ""
	switch u.draft.stepID {
	case stepName: // the name step is what the card answers
		u.next(stepName)
	case "":
	default:
		u.drawStep(u.draft.stepID)
	}
}
