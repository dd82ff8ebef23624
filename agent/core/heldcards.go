package core

import (
	"sync"
	"time"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/mediation"
)

// The reader answers only for the card it read last, for a few minutes: a
// villager's card must not be claimable by whoever taps the screen next. A
// mediator logging a session with three parties taps three cards, though,
// and the form may take longer than that. So a signed-in mediator holds
// each card as it is read (POST /v1/mediator/cards), and the session or
// walk-in case they then save may name any card they hold.
const (
	// HeldCardTTL is how long a held card stays usable: a long session,
	// not a day. Signing out drops it sooner.
	HeldCardTTL = time.Hour
	// MaxHeldCards bounds the cards one mediator holds, as many as a case
	// has parties.
	MaxHeldCards = 10
)

// heldCard is a card a mediator holds.
type heldCard struct {
	owner string // mediator id
	id    Identity
	at    time.Time
}

// heldCards are the cards held by signed-in mediators, by card token.
type heldCards struct {
	mu    sync.Mutex
	cards map[string]heldCard
}

// HoldCard moves the card just read (token) from the reader to mediator m,
// for the session or case m is entering.
func (c *Core) HoldCard(m apitype.Mediator, req apitype.HoldCard) (apitype.CardSummary, error) {
	if req.Card == "" {
		return apitype.CardSummary{}, &booking.FieldError{Field: "card", Code: apitype.CodeRequired, Msg: "is required"}
	}
	id, err := c.cardRead(req.Card)
	if err != nil {
		return apitype.CardSummary{}, err
	}
	now := c.now()
	h := &c.held
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cards == nil {
		h.cards = map[string]heldCard{}
	}
	n := 0
	for tok, hc := range h.cards {
		switch {
		case now.Sub(hc.at) >= HeldCardTTL:
			delete(h.cards, tok)
		case hc.owner == m.ID:
			n++
		}
	}
	if n >= MaxHeldCards {
		return apitype.CardSummary{}, &booking.FieldError{Field: "card", Code: apitype.CodeTooMany,
			Msg: "this mediator already holds the most cards a case can have parties; save or sign out first"}
	}
	h.cards[req.Card] = heldCard{owner: m.ID, id: id, at: now}
	c.cards.Forget(req.Card)
	return apitype.CardSummary{Token: req.Card, Type: id.IDType, Name: id.Name, IDMasked: id.IDMasked}, nil
}

// mediatorLookup resolves a party's card token for mediator m: a card m
// holds, or else the card just read.
func (c *Core) mediatorLookup(m apitype.Mediator, used *[]string) mediation.Lookup {
	reader := c.lookup(used)
	return func(token string) (mediation.Party, bool) {
		h := &c.held
		h.mu.Lock()
		hc, ok := h.cards[token]
		if ok && (hc.owner != m.ID || c.now().Sub(hc.at) >= HeldCardTTL) {
			ok = false
		}
		h.mu.Unlock()
		if !ok {
			return reader(token)
		}
		*used = append(*used, token)
		return mediation.Party{Name: hc.id.Name, IDNumber: hc.id.IDNumber, IDType: hc.id.IDType, IDMasked: hc.id.IDMasked}, true
	}
}

// dropHeld forgets tokens once a record naming them is saved.
func (c *Core) dropHeld(tokens []string) {
	h := &c.held
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range tokens {
		delete(h.cards, t)
	}
}

// dropHeldBy forgets every card mediator id holds: they signed out.
func (c *Core) dropHeldBy(id string) {
	h := &c.held
	h.mu.Lock()
	defer h.mu.Unlock()
	for tok, hc := range h.cards {
		if hc.owner == id {
			delete(h.cards, tok)
		}
	}
}
