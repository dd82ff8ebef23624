package apitype

import "time"

// DraftForm is a mediator's session form as it stood when they were signed
// out before saving it: PUT /v1/mediator/drafts/{case} keeps it, sealed,
// and GET /v1/mediator/drafts gives it back at their next sign-in.
type DraftForm struct {
	// Session is the form's fields. Its parties are those added by name
	// and phone only: a card's token does not outlive the sign-out, so a
	// party who tapped a card taps it again (CardParties says how many).
	Session     SessionRequest `json:"session"`
	Agreement   *bool          `json:"agreement,omitempty"` // absent: not chosen yet (Session.Agreement is a plain bool)
	CardParties int            `json:"card_parties,omitempty"`
}

// SessionDraft is one kept draft: the case it is on, when it was saved, and
// the form.
type SessionDraft struct {
	Case  string    `json:"case"`
	Saved time.Time `json:"saved"`
	Form  DraftForm `json:"form"`
}

// SessionDrafts is the body of GET /v1/mediator/drafts: the signed-in
// mediator's drafts, most recently saved first, none older than 7 days.
type SessionDrafts struct {
	Drafts []SessionDraft `json:"drafts"`
}
