package apitype

// ErrorResponse is the body of every 4xx and 5xx answer.
type ErrorResponse struct {
	Error Error `json:"error"`
}

// Error describes what went wrong; Field is set when one field is to blame.
type Error struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Error codes: every code the local API answers with, in one place, with
// the HTTP status it comes with (docs/local-api.md has the same table).
// They are stable: the screen chooses its wording, and sometimes what it
// does next, by code, while Message is for a technician's log. The rules
// that judge a request (booking, mediation, the core) return these codes
// in their field errors; none defines a code of its own.
const (
	// The request as a whole.
	CodeBadJSON      = "bad_json"      // 400: body empty, not JSON, or not one object
	CodeUnknownField = "unknown_field" // 400: a field the request does not have (Field names it)
	CodeTooLarge     = "too_large"     // 413: body over the size limit
	CodeNotFound     = "not_found"     // 404: no such endpoint, dead letter, case, or follow-up due
	CodeNoMatch      = "no_match"      // 404: no request with that number matches the proof given
	CodeUncheckable  = "uncheckable"   // 410: a request made before the kiosk's request secret was lost: ask the village office

	// One field of the request (Field names it), all 400.
	CodeRequired        = "required"          // missing or blank
	CodeInvalid         = "invalid"           // malformed, or not allowed here
	CodeTooLong         = "too_long"          // longer than its limit
	CodeUnknownService  = "unknown_service"   // not one of the 513 services
	CodeNotBookable     = "not_bookable"      // a service that takes no bookings at the kiosk
	CodeUnknownTopic    = "unknown_topic"     // not one of the site's topics
	CodeSlotInPast      = "slot_in_past"      // the slot has passed
	CodeSlotNotOffered  = "slot_not_offered"  // not a slot GET /v1/slots offers
	CodeUnknownQuestion = "unknown_question"  // a check-up answer to a question the site does not have
	CodeUnknownVenue    = "unknown_venue"     // not a venue of the site
	CodeUnknownCategory = "unknown_category"  // not a dispute category of the site
	CodeUnknownPhrase   = "unknown_phrase"    // not one of the preset session phrases
	CodeDuplicate       = "duplicate"         // the same slot or phrase twice
	CodeFollowUpInPast  = "follow_up_in_past" // a follow-up visit date not after today
	CodeConsentRequired = "consent_required"  // a photo asked for without the parties' (or villager's) consent
	CodeUnknownKind     = "unknown_kind"      // not a request kind the site offers (求助, 反映诉求, 咨询, 举报)
	CodeUnknownPlace    = "unknown_place"     // not one of the village's places
	// Field codes the screen reacts to, not only shows.
	CodeCardExpired = "card_expired" // the card token is unknown, used or too old: tap again
	CodeTooMany     = "too_many"     // more slots, parties or held cards than allowed

	// Mediator mode and devices.
	CodeUnauthorized = "unauthorized" // 401: no or lapsed mediator session, or a sign-in refused
	CodeLocked       = "locked"       // 429: too many wrong PINs or request proofs; wait
	CodeNoDevice     = "no_device"    // 409: no printer, speech or consent camera on this kiosk, or it is failing
	// CodePointsUnavailable (409): this kiosk has no points key, so no card
	// finds its 美德银行 account; the offers and rules still show.
	CodePointsUnavailable = "points_unavailable"

	// The kiosk itself.
	CodeStorage     = "storage"      // 503: the store could not commit; nothing was saved, retry
	CodeStorageFull = "storage_full" // 507: quota reached or disk full; retrying soon will not help
	CodeInternal    = "internal"     // 500: a bug or a wiring fault; see kioskd's log
)
