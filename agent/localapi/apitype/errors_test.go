package apitype

import "testing"

// TestErrorCodes pins the words the screen keys on: a code is part of the
// API, so changing one is a change the UI (and docs/local-api.md) must make
// too, never a refactor's side effect.
func TestErrorCodes(t *testing.T) {
	tests := []struct{ code, want string }{
		{CodeBadJSON, "bad_json"},
		{CodeUnknownField, "unknown_field"},
		{CodeTooLarge, "too_large"},
		{CodeNotFound, "not_found"},
		{CodeNoMatch, "no_match"},
		{CodePointsUnavailable, "points_unavailable"},
		{CodeUncheckable, "uncheckable"},
		{CodeRequired, "required"},
		{CodeInvalid, "invalid"},
		{CodeTooLong, "too_long"},
		{CodeUnknownService, "unknown_service"},
		{CodeNotBookable, "not_bookable"},
		{CodeUnknownTopic, "unknown_topic"},
		{CodeSlotInPast, "slot_in_past"},
		{CodeSlotNotOffered, "slot_not_offered"},
		{CodeUnknownQuestion, "unknown_question"},
		{CodeUnknownVenue, "unknown_venue"},
		{CodeUnknownCategory, "unknown_category"},
		{CodeUnknownPhrase, "unknown_phrase"},
		{CodeDuplicate, "duplicate"},
		{CodeFollowUpInPast, "follow_up_in_past"},
		{CodeConsentRequired, "consent_required"},
		{CodeUnknownKind, "unknown_kind"},
		{CodeUnknownPlace, "unknown_place"},
		{CodeCardExpired, "card_expired"},
		{CodeTooMany, "too_many"},
		{CodeUnauthorized, "unauthorized"},
		{CodeLocked, "locked"},
		{CodeNoDevice, "no_device"},
		{CodeStorage, "storage"},
		{CodeStorageFull, "storage_full"},
		{CodeInternal, "internal"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		if tt.code != tt.want {
			t.Errorf("code %q, want %q", tt.code, tt.want)
		}
		if seen[tt.code] {
			t.Errorf("code %q twice", tt.code)
		}
		seen[tt.code] = true
	}
}
