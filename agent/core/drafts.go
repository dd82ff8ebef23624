package core

import (
	"encoding/json"
	"fmt"

	"github.com/fengqiao/kiosk/agent/booking"
	"github.com/fengqiao/kiosk/agent/casebook"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
)

// SaveDraft keeps mediator m's unsaved session form on a case, replacing
// their earlier one there. The form is checked only for what would make it
// useless or unsafe to keep: the fields themselves are judged when the
// session is logged, against the rules in force then.
func (c *Core) SaveDraft(m apitype.Mediator, caseID string, f apitype.DraftForm) (apitype.SessionDraft, error) {
	if c.cases == nil {
		return apitype.SessionDraft{}, ErrNoCaseBook
	}
	for i, p := range f.Session.Parties {
		if p.Card != "" {
			// A card token is good for minutes and names a villager's ID:
			// neither belongs in a draft kept for a week.
			return apitype.SessionDraft{}, &booking.FieldError{Field: fmt.Sprintf("session.parties[%d].card", i),
				Code: apitype.CodeInvalid, Msg: "a draft keeps parties by name and phone; a card is read again"}
		}
	}
	raw, err := json.Marshal(f)
	if err != nil {
		return apitype.SessionDraft{}, fmt.Errorf("core: encode draft: %w", err)
	}
	if err := c.cases.PutDraft(casebook.Draft{Mediator: m.ID, Case: caseID, Form: raw}); err != nil {
		return apitype.SessionDraft{}, err
	}
	c.log.Info("mediation draft kept", "case", caseID, "mediator", m.ID)
	return apitype.SessionDraft{Case: caseID, Saved: c.now(), Form: f}, nil
}

// Drafts returns mediator m's drafts, the most recent first.
func (c *Core) Drafts(m apitype.Mediator) (apitype.SessionDrafts, error) {
	if c.cases == nil {
		return apitype.SessionDrafts{}, ErrNoCaseBook
	}
	ds, err := c.cases.Drafts(m.ID)
	if err != nil {
		return apitype.SessionDrafts{}, err
	}
	out := apitype.SessionDrafts{Drafts: []apitype.SessionDraft{}}
	for _, d := range ds {
		var f apitype.DraftForm
		if err := json.Unmarshal(d.Form, &f); err != nil {
			c.log.Warn("mediation draft unreadable; skipped", "case", d.Case, "mediator", m.ID, "err", err)
			continue
		}
		out.Drafts = append(out.Drafts, apitype.SessionDraft{Case: d.Case, Saved: d.Saved, Form: f})
	}
	return out, nil
}

// DeleteDraft drops mediator m's draft on a case.
func (c *Core) DeleteDraft(m apitype.Mediator, caseID string) error {
	if c.cases == nil {
		return ErrNoCaseBook
	}
	return c.cases.DeleteDraft(m.ID, caseID)
}
