package bundle

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// schemaError stands for agent/config's *Error: Verify must hand it back.
type schemaError struct{ field string }

func (e *schemaError) Error() string { return e.field + ": is required" }

func TestVerify(t *testing.T) {
	keyA, keyC := testKey(seedA), testKey(seedC)
	with := func(edit func(b *Bundle)) []byte {
		b := baseBundle()
		edit(&b)
		return mustSign(t, b, keyA)
	}
	valid := mustSign(t, baseBundle(), keyA)
	signedPayload := func(p string) []byte { return mustSignPayload(t, p, keyA) }
	// A payload template: every valid field, so each case breaks one thing.
	payload := func(replace ...string) []byte {
		p := `{"format":"bundle/v1","kind":"site","version":7,"target":{"township":"dev-township"},` +
			`"not_before":"2026-11-25T00:00:00Z","expires":"2026-12-25T00:00:00Z","content":"c2NoZW1hOiBmZW5ncWlhby5zaXRlL3YxCg=="}`
		for i := 0; i+1 < len(replace); i += 2 {
			if !strings.Contains(p, replace[i]) {
				t.Fatalf("payload template has no %q", replace[i])
			}
			p = strings.Replace(p, replace[i], replace[i+1], 1)
		}
		return signedPayload(p)
	}
	envelope := func(keyID, sig, pl string) []byte {
		return []byte(fmt.Sprintf(`{"key_id":%q,"signature":%q,"payload":%q}`, keyID, sig, pl))
	}
	updateEnv := mustSign(t, updateBundle(), keyA)
	withUpdate := func(edit func(b *Bundle)) []byte {
		b := updateBundle()
		edit(&b)
		return mustSign(t, b, keyA)
	}
	takeUpdates := &Options{Validate: acceptAll, ValidateUpdate: acceptAll}
	patchEnv := mustSign(t, patchBundle(), keyA)
	withPatch := func(edit func(b *Bundle)) []byte {
		b := patchBundle()
		edit(&b)
		return mustSign(t, b, keyA)
	}
	takePatches := &Options{Validate: acceptAll, ValidatePatch: acceptAll}
	statusEnv := mustSign(t, statusBundle(), keyA)
	withStatus := func(edit func(b *Bundle)) []byte {
		b := statusBundle()
		edit(&b)
		return mustSign(t, b, keyA)
	}
	takeStatuses := &Options{Validate: acceptAll, ValidateRequestStatus: acceptAll}
	ledgerEnv := mustSign(t, ledgerBundle(), keyA)
	withLedger := func(edit func(b *Bundle)) []byte {
		b := ledgerBundle()
		edit(&b)
		return mustSign(t, b, keyA)
	}
	takeLedgers := &Options{Validate: acceptAll, ValidatePointsLedger: acceptAll}
	validKeyID := KeyID(pubOf(keyA))
	var validSig, validPayload string
	mustEditEnvelope(t, valid, func(e map[string]string) { validSig, validPayload = e["signature"], e["payload"] })

	tests := []struct {
		name     string
		env      []byte
		applied  map[string]uint64 // trust's applied versions (default township:dev-township=6)
		now      time.Time         // default testNow
		opts     *Options          // default: accept all content
		want     error             // nil: accepted
		scope    string            // with want nil
		signedOK bool              // with want set: the error must carry the version
	}{
		{name: "valid township bundle", env: valid, scope: "township:dev-township"},
		{name: "list including this kiosk", env: with(func(b *Bundle) { b.Target.Kiosks = []string{"dev-kiosk-02", "dev-kiosk-01"} }), scope: "kiosk:dev-kiosk-01"},
		{name: "this kiosk alone", env: with(func(b *Bundle) { b.Target.Kiosks = []string{"dev-kiosk-01"} }), scope: "kiosk:dev-kiosk-01"},
		{name: "another kiosk", env: with(func(b *Bundle) { b.Target.Kiosks = []string{"dev-kiosk-02"} }), want: ErrWrongTarget, signedOK: true},
		{name: "another township", env: with(func(b *Bundle) { b.Target.Township = "other-township" }), want: ErrWrongTarget, signedOK: true},
		{name: "same kiosk id in another township", env: with(func(b *Bundle) {
			b.Target = Target{Township: "other-township", Kiosks: []string{"dev-kiosk-01"}}
		}), want: ErrWrongTarget, signedOK: true},

		{name: "tampered payload byte", env: mustEditEnvelope(t, valid, func(e map[string]string) {
			p := mustB64(t, e["payload"])
			p[len(p)/2] ^= 1
			e["payload"] = base64.StdEncoding.EncodeToString(p)
		}), want: ErrBadSignature},
		{name: "tampered payload, still valid JSON", env: mustEditEnvelope(t, valid, func(e map[string]string) {
			p := bytes.Replace(mustB64(t, e["payload"]), []byte(`"version":7`), []byte(`"version":9`), 1)
			e["payload"] = base64.StdEncoding.EncodeToString(p)
		}), want: ErrBadSignature},
		{name: "tampered signature", env: mustEditEnvelope(t, valid, func(e map[string]string) {
			s := mustB64(t, e["signature"])
			s[0] ^= 0x80
			e["signature"] = base64.StdEncoding.EncodeToString(s)
		}), want: ErrBadSignature},
		{name: "signed by an unknown key", env: mustSign(t, baseBundle(), keyC), want: ErrUnknownKey},
		{name: "signed by another key under the trusted key's id", env: mustEditEnvelope(t, mustSign(t, baseBundle(), keyC), func(e map[string]string) {
			e["key_id"] = validKeyID
		}), want: ErrBadSignature},

		{name: "not yet valid", env: valid, now: baseBundle().NotBefore.Add(-DefaultSkew - time.Second), want: ErrNotYetValid, signedOK: true},
		{name: "early within the skew allowance", env: valid, now: baseBundle().NotBefore.Add(-DefaultSkew + time.Second), scope: "township:dev-township"},
		{name: "expired", env: valid, now: baseBundle().Expires.Add(DefaultSkew), want: ErrExpired, signedOK: true},
		{name: "late within the skew allowance", env: valid, now: baseBundle().Expires.Add(DefaultSkew - time.Second), scope: "township:dev-township"},
		{name: "smaller skew", env: valid, now: baseBundle().NotBefore.Add(-2 * time.Minute), opts: &Options{Validate: acceptAll, Skew: time.Minute}, want: ErrNotYetValid, signedOK: true},
		{name: "kiosk clock back at 1970 after a cold boot", env: valid, now: time.Unix(0, 0), want: ErrNotYetValid, signedOK: true},

		{name: "replay of the applied version", env: valid, applied: map[string]uint64{"township:dev-township": 7}, want: ErrReplay, signedOK: true},
		{name: "downgrade", env: valid, applied: map[string]uint64{"township:dev-township": 8}, want: ErrDowngrade, signedOK: true},
		{name: "first bundle ever", env: valid, applied: map[string]uint64{}, scope: "township:dev-township"},
		{name: "scopes count separately", env: with(func(b *Bundle) { b.Target.Kiosks = []string{"dev-kiosk-01"} }),
			applied: map[string]uint64{"township:dev-township": 100, "kiosk:dev-kiosk-01": 6}, scope: "kiosk:dev-kiosk-01"},
		{name: "kiosk scope replay", env: with(func(b *Bundle) { b.Target.Kiosks = []string{"dev-kiosk-01"} }),
			applied: map[string]uint64{"kiosk:dev-kiosk-01": 7}, want: ErrReplay, signedOK: true},
		{name: "schema hook refuses", env: valid, opts: &Options{Validate: func(c []byte) error { return &schemaError{"kiosk.id"} }}, want: ErrSchema, signedOK: true},

		// Site patches: the same checks and counter as site bundles,
		// their own validator.
		{name: "site patch", env: patchEnv, opts: takePatches, scope: "township:dev-township"},
		{name: "site patch for this kiosk", env: withPatch(func(b *Bundle) { b.Target.Kiosks = []string{"dev-kiosk-01"} }), opts: takePatches, scope: "kiosk:dev-kiosk-01"},
		{name: "site patch to a verifier that applies none", env: patchEnv, want: ErrUnsupported, signedOK: true},
		{name: "site patch refused", env: patchEnv, opts: &Options{Validate: acceptAll, ValidatePatch: func([]byte) error { return &schemaError{"content.services"} }}, want: ErrSchema, signedOK: true},
		{name: "site patch not checked as a site bundle", env: patchEnv, opts: &Options{Validate: func([]byte) error { return errors.New("no") }, ValidatePatch: acceptAll}, scope: "township:dev-township"},
		{name: "site bundle not checked as a patch", env: valid, opts: &Options{Validate: acceptAll, ValidatePatch: func([]byte) error { return errors.New("no") }}, scope: "township:dev-township"},
		{name: "site patch shares the site counter", env: patchEnv, opts: takePatches, applied: map[string]uint64{"township:dev-township": 7}, want: ErrReplay, signedOK: true},
		{name: "site patch without content", env: payload(`"kind":"site"`, `"kind":"site-patch"`, `,"content":"c2NoZW1hOiBmZW5ncWlhby5zaXRlL3YxCg=="`, ""), opts: takePatches, want: ErrMalformed},
		{name: "a kind from the future", env: payload(`"kind":"site"`, `"kind":"site-json-patch"`), opts: takePatches, want: ErrUnsupported},

		// Update bundles: the same checks, their own version counter.
		{name: "update bundle", env: updateEnv, opts: takeUpdates, scope: "update:township:dev-township"},
		{name: "update bundle for this kiosk", env: withUpdate(func(b *Bundle) { b.Target.Kiosks = []string{"dev-kiosk-01"} }), opts: takeUpdates, scope: "update:kiosk:dev-kiosk-01"},
		{name: "update bundle to a verifier that installs nothing", env: updateEnv, want: ErrUnsupported, signedOK: true},
		{name: "update manifest refused", env: updateEnv, opts: &Options{Validate: acceptAll, ValidateUpdate: func([]byte) error { return errors.New("sha256 is not hex") }}, want: ErrSchema, signedOK: true},
		{name: "update site validator not used", env: updateEnv, opts: &Options{Validate: func([]byte) error { return errors.New("no") }, ValidateUpdate: acceptAll}, scope: "update:township:dev-township"},
		{name: "update replayed", env: updateEnv, opts: takeUpdates, applied: map[string]uint64{"update:township:dev-township": 7}, want: ErrReplay, signedOK: true},
		{name: "update downgraded", env: updateEnv, opts: takeUpdates, applied: map[string]uint64{"update:township:dev-township": 9}, want: ErrDowngrade, signedOK: true},
		{name: "update and site versions count apart", env: updateEnv, opts: takeUpdates, applied: map[string]uint64{"township:dev-township": 100}, scope: "update:township:dev-township"},
		{name: "site and update versions count apart", env: valid, applied: map[string]uint64{"update:township:dev-township": 100}, scope: "township:dev-township"},
		{name: "update for another kiosk", env: withUpdate(func(b *Bundle) { b.Target.Kiosks = []string{"dev-kiosk-02"} }), opts: takeUpdates, want: ErrWrongTarget, signedOK: true},
		{name: "update expired", env: updateEnv, opts: takeUpdates, now: baseBundle().Expires.Add(DefaultSkew), want: ErrExpired, signedOK: true},
		{name: "update signed by an unknown key", env: mustSign(t, updateBundle(), keyC), opts: takeUpdates, want: ErrUnknownKey},
		{name: "update without content", env: payload(`"kind":"site"`, `"kind":"update"`, `,"content":"c2NoZW1hOiBmZW5ncWlhby5zaXRlL3YxCg=="`, ""), opts: takeUpdates, want: ErrMalformed},
		{name: "update with a rotation", env: payload(`"kind":"site"`, `"kind":"update"`, `"content"`, `"rotation":{"public_key":"`+FormatPublicKey(pubOf(keyC))+`","effective_version":8},"content"`), opts: takeUpdates, want: ErrMalformed},
		{name: "site bundle relabelled as update", env: mustEditEnvelope(t, valid, func(e map[string]string) {
			p := bytes.Replace(mustB64(t, e["payload"]), []byte(`"kind":"site"`), []byte(`"kind":"update"`), 1)
			e["payload"] = base64.StdEncoding.EncodeToString(p)
		}), opts: takeUpdates, want: ErrBadSignature},

		// Request statuses: ordered per request by the caller, never
		// against the trust state's applied versions.
		{name: "request status", env: statusEnv, opts: takeStatuses, scope: "requests:kiosk:dev-kiosk-01"},
		{name: "request status below every applied version", env: statusEnv, opts: takeStatuses,
			applied: map[string]uint64{"township:dev-township": 100, "kiosk:dev-kiosk-01": 100}, scope: "requests:kiosk:dev-kiosk-01"},
		{name: "request status to a verifier that takes none", env: statusEnv, want: ErrUnsupported, signedOK: true},
		{name: "request status refused", env: statusEnv, opts: &Options{Validate: acceptAll, ValidateRequestStatus: func([]byte) error { return errors.New("unknown status") }}, want: ErrSchema, signedOK: true},
		{name: "request status for another kiosk", env: withStatus(func(b *Bundle) { b.Target.Kiosks = []string{"dev-kiosk-02"} }), opts: takeStatuses, want: ErrWrongTarget, signedOK: true},
		{name: "request status signed by an unknown key", env: mustSign(t, statusBundle(), keyC), opts: takeStatuses, want: ErrUnknownKey},
		{name: "request status for a whole township", env: payload(`"kind":"site"`, `"kind":"request-status"`), opts: takeStatuses, want: ErrMalformed},
		{name: "request status for two kiosks", env: payload(`{"township":"dev-township"}`, `{"township":"dev-township","kiosks":["dev-kiosk-01","dev-kiosk-02"]}`, `"kind":"site"`, `"kind":"request-status"`), opts: takeStatuses, want: ErrMalformed},
		{name: "request status expired", env: statusEnv, opts: takeStatuses, now: baseBundle().Expires.Add(DefaultSkew), want: ErrExpired, signedOK: true},

		// Points ledgers: ordered by the caller against the ledger in
		// force, never against the trust state's applied versions.
		{name: "points ledger", env: ledgerEnv, opts: takeLedgers, scope: "points:kiosk:dev-kiosk-01"},
		{name: "points ledger below every applied version", env: ledgerEnv, opts: takeLedgers,
			applied: map[string]uint64{"township:dev-township": 100, "kiosk:dev-kiosk-01": 100}, scope: "points:kiosk:dev-kiosk-01"},
		{name: "points ledger to a verifier that takes none", env: ledgerEnv, want: ErrUnsupported, signedOK: true},
		{name: "points ledger not checked as an answer", env: ledgerEnv, opts: takeStatuses, want: ErrUnsupported, signedOK: true},
		{name: "points ledger refused", env: ledgerEnv, opts: &Options{Validate: acceptAll, ValidatePointsLedger: func([]byte) error { return errors.New("not gzip") }}, want: ErrSchema, signedOK: true},
		{name: "points ledger for another village's kiosk", env: withLedger(func(b *Bundle) { b.Target.Kiosks = []string{"dev-kiosk-02"} }), opts: takeLedgers, want: ErrWrongTarget, signedOK: true},
		{name: "points ledger signed by an unknown key", env: mustSign(t, ledgerBundle(), keyC), opts: takeLedgers, want: ErrUnknownKey},
		{name: "points ledger for a whole township", env: payload(`"kind":"site"`, `"kind":"points-ledger"`), opts: takeLedgers, want: ErrMalformed},
		{name: "points ledger expired", env: ledgerEnv, opts: takeLedgers, now: baseBundle().Expires.Add(DefaultSkew), want: ErrExpired, signedOK: true},

		// Order: the first failing check wins.
		{name: "bad signature beats wrong target", env: mustEditEnvelope(t, with(func(b *Bundle) { b.Target.Township = "x" }), func(e map[string]string) {
			e["signature"] = validSig
		}), want: ErrBadSignature},
		{name: "wrong target beats expired", env: with(func(b *Bundle) { b.Target.Township = "x" }), now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), want: ErrWrongTarget, signedOK: true},
		{name: "expired beats replay", env: valid, now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), applied: map[string]uint64{"township:dev-township": 7}, want: ErrExpired, signedOK: true},
		{name: "replay beats schema", env: valid, applied: map[string]uint64{"township:dev-township": 7}, opts: &Options{Validate: func([]byte) error { return errors.New("no") }}, want: ErrReplay, signedOK: true},

		{name: "oversize", env: append(append([]byte(`{"key_id":"`), bytes.Repeat([]byte("a"), MaxEnvelopeSize)...), `"}`...), want: ErrTooLarge},
		{name: "empty", env: nil, want: ErrMalformed},
		{name: "not JSON", env: []byte("hello"), want: ErrMalformed},
		{name: "JSON array", env: []byte(`["a"]`), want: ErrMalformed},
		{name: "JSON string", env: []byte(`"a"`), want: ErrMalformed},
		{name: "truncated", env: valid[:len(valid)-2], want: ErrMalformed},
		{name: "trailing data", env: append(append([]byte{}, valid...), []byte(` {}`)...), want: ErrMalformed},
		{name: "trailing white space is fine", env: append(append([]byte{}, valid...), []byte(" \n")...), scope: "township:dev-township"},
		{name: "unknown envelope member", env: bytes.Replace(valid, []byte(`{"key_id"`), []byte(`{"note":"hi","key_id"`), 1), want: ErrMalformed},
		{name: "member in another case", env: bytes.Replace(valid, []byte(`"payload"`), []byte(`"Payload"`), 1), want: ErrMalformed},
		{name: "member twice", env: bytes.Replace(valid, []byte(`{"key_id"`), []byte(`{"payload":"e30=","key_id"`), 1), want: ErrMalformed},
		{name: "null member", env: []byte(`{"key_id":null,"signature":"` + validSig + `","payload":"` + validPayload + `"}`), want: ErrMalformed},
		{name: "missing signature", env: []byte(`{"key_id":"` + validKeyID + `","payload":"` + validPayload + `"}`), want: ErrMalformed},
		{name: "key_id in upper case", env: envelope(strings.ToUpper(validKeyID), validSig, validPayload), want: ErrMalformed},
		{name: "key_id too short", env: envelope(validKeyID[:8], validSig, validPayload), want: ErrMalformed},
		{name: "payload not base64", env: envelope(validKeyID, validSig, "!!!!"), want: ErrMalformed},
		{name: "payload base64 without padding", env: envelope(validKeyID, validSig, "e30"), want: ErrMalformed},
		{name: "payload base64 url alphabet", env: envelope(validKeyID, validSig, strings.NewReplacer("+", "-", "/", "_").Replace(validPayload)+"-_"), want: ErrMalformed},
		{name: "payload base64 with a line break", env: envelope(validKeyID, validSig, validPayload[:8]+"\n"+validPayload[8:]), want: ErrMalformed},
		{name: "payload empty", env: envelope(validKeyID, validSig, ""), want: ErrMalformed},
		{name: "signature too short", env: envelope(validKeyID, validSig[:40], validPayload), want: ErrMalformed},
		{name: "signature with stray bits", env: envelope(validKeyID, validSig[:len(validSig)-3]+"B==", validPayload), want: ErrMalformed},

		// Signed, but not a valid bundle/v1 payload.
		{name: "template payload is valid", env: payload(), scope: "township:dev-township"},
		{name: "payload not JSON", env: signedPayload("version=7"), want: ErrMalformed},
		{name: "payload without format", env: payload(`"format":"bundle/v1",`, ""), want: ErrMalformed},
		{name: "payload without kind", env: payload(`"kind":"site",`, ""), want: ErrMalformed},
		{name: "format from the future", env: payload(`"bundle/v1"`, `"bundle/v2"`, `"kind":"site",`, `"kind":"site","extra":1,`), want: ErrUnsupported, signedOK: false},
		{name: "unknown kind", env: payload(`"kind":"site"`, `"kind":"firmware"`), want: ErrUnsupported},
		{name: "unknown payload member", env: payload(`"version":7`, `"version":7,"priority":1`), want: ErrMalformed},
		{name: "member of another object", env: payload(`"version":7`, `"version":7,"public_key":"x"`), want: ErrMalformed},
		{name: "payload member in another case", env: payload(`"version"`, `"Version"`), want: ErrMalformed},
		{name: "payload member twice", env: payload(`"version":7`, `"version":1,"version":7`), want: ErrMalformed},
		{name: "payload null", env: payload(`"content":"c2NoZW1hOiBmZW5ncWlhby5zaXRlL3YxCg=="`, `"content":null`), want: ErrMalformed},
		{name: "payload trailing data", env: signedPayload(string(payloadOf(t, valid)) + "{}"), want: ErrMalformed},
		{name: "version as a string", env: payload(`"version":7`, `"version":"7"`), want: ErrMalformed},
		{name: "version as a fraction", env: payload(`"version":7`, `"version":7.0`), want: ErrMalformed},
		{name: "version negative", env: payload(`"version":7`, `"version":-7`), want: ErrMalformed},
		{name: "version zero", env: payload(`"version":7`, `"version":0`), want: ErrMalformed},
		{name: "version above 2^53-1", env: payload(`"version":7`, `"version":9007199254740992`), want: ErrMalformed},
		{name: "version above uint64", env: payload(`"version":7`, `"version":18446744073709551616`), want: ErrMalformed},
		{name: "no target", env: payload(`"target":{"township":"dev-township"},`, ""), want: ErrMalformed},
		{name: "empty kiosk list", env: payload(`{"township":"dev-township"}`, `{"township":"dev-township","kiosks":[]}`), want: ErrMalformed},
		{name: "kiosk listed twice", env: payload(`{"township":"dev-township"}`, `{"township":"dev-township","kiosks":["dev-kiosk-01","dev-kiosk-01"]}`), want: ErrMalformed},
		{name: "kiosk id with a slash", env: payload(`{"township":"dev-township"}`, `{"township":"dev-township","kiosks":["dev/kiosk"]}`), want: ErrMalformed},
		{name: "township id in upper case", env: payload(`"dev-township"`, `"Dev-Township"`), want: ErrMalformed},
		{name: "time not RFC 3339", env: payload(`"2026-11-25T00:00:00Z"`, `"2026-11-25 00:00"`), want: ErrMalformed},
		{name: "time with an offset is fine", env: payload(`"2026-11-25T00:00:00Z"`, `"2026-11-25T08:00:00+08:00"`), scope: "township:dev-township"},
		{name: "no expiry", env: payload(`,"expires":"2026-12-25T00:00:00Z"`, ""), want: ErrMalformed},
		{name: "expires before not_before", env: payload(`"2026-12-25T00:00:00Z"`, `"2026-11-24T00:00:00Z"`), want: ErrMalformed},
		{name: "site bundle without content", env: payload(`,"content":"c2NoZW1hOiBmZW5ncWlhby5zaXRlL3YxCg=="`, ""), want: ErrMalformed},
		{name: "content not canonical base64", env: payload(`"c2NoZW1hOiBmZW5ncWlhby5zaXRlL3YxCg=="`, `"c2NoZW1hOiBmZW5ncWlhby5zaXRlL3YxCh=="`), want: ErrMalformed},
		{name: "site bundle with a rotation", env: payload(`"content"`, `"rotation":{"public_key":"`+FormatPublicKey(pubOf(keyC))+`","effective_version":8},"content"`), want: ErrMalformed},
		{name: "rotation without rotation", env: payload(`"kind":"site"`, `"kind":"key-rotation"`), want: ErrMalformed},
		{name: "payload nested too deep", env: payload(`"version":7`, `"version":7,"target":`+strings.Repeat("[", 20)+strings.Repeat("]", 20)), want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trust := mustTrust(t, keyA)
			trust.Applied = map[string]uint64{"township:dev-township": 6}
			if tt.applied != nil {
				trust.Applied = tt.applied
			}
			now := testNow
			if !tt.now.IsZero() {
				now = tt.now
			}
			opts := Options{Validate: acceptAll}
			if tt.opts != nil {
				opts = *tt.opts
			}
			v, err := Verify(tt.env, trust, thisKiosk, now, opts)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if v.Scope != tt.scope || v.KeyID != KeyID(pubOf(keyA)) || v.Version == 0 {
					t.Errorf("scope %q key %q version %d", v.Scope, v.KeyID, v.Version)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if v != nil {
				t.Errorf("a refused bundle was returned: %+v", v)
			}
			var be *Error
			if !errors.As(err, &be) {
				t.Fatalf("%T is not an *Error", err)
			}
			if (be.Version != 0) != tt.signedOK {
				t.Errorf("Version = %d; want it set only once the signature checked out (%v)", be.Version, tt.signedOK)
			}
			if Reason(err) == "error" || Reason(err) == "" {
				t.Errorf("Reason = %q", Reason(err))
			}
			t.Log(err)
		})
	}
}

// payloadOf returns the signed payload bytes inside an envelope.
func payloadOf(t testing.TB, env []byte) []byte {
	t.Helper()
	var p []byte
	mustEditEnvelope(t, env, func(e map[string]string) { p = mustB64(t, e["payload"]) })
	return p
}

func TestVerifySchemaErrorIsKept(t *testing.T) {
	keyA := testKey(seedA)
	want := &schemaError{"content.advisor.name"}
	_, err := Verify(mustSign(t, baseBundle(), keyA), mustTrust(t, keyA), thisKiosk, testNow, Options{Validate: func(c []byte) error {
		if !bytes.Equal(c, baseBundle().Content) {
			t.Errorf("validator got %q", c)
		}
		return want
	}})
	var got *schemaError
	if !errors.Is(err, ErrSchema) || !errors.As(err, &got) || got != want {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "content.advisor.name: is required") || !strings.Contains(err.Error(), "version 7") {
		t.Errorf("message %q does not name the problem and the version", err)
	}
}

func TestVerifyMisuse(t *testing.T) {
	keyA := testKey(seedA)
	env := mustSign(t, baseBundle(), keyA)
	trust := mustTrust(t, keyA)
	for name, call := range map[string]func() error{
		"nil trust": func() error { _, err := Verify(env, nil, thisKiosk, testNow, Options{Validate: acceptAll}); return err },
		"no kiosk id": func() error {
			_, err := Verify(env, trust, Identity{Township: "dev-township"}, testNow, Options{Validate: acceptAll})
			return err
		},
		"no validator": func() error { _, err := Verify(env, trust, thisKiosk, testNow, Options{}); return err },
	} {
		err := call()
		if err == nil || Reason(err) != "error" {
			t.Errorf("%s: err = %v, Reason %q", name, err, Reason(err))
		}
	}
}

func TestVerifyDoesNotChangeTrust(t *testing.T) {
	keyA := testKey(seedA)
	trust := mustTrust(t, keyA)
	before, _ := trust.Marshal()
	mustVerify(t, mustSign(t, baseBundle(), keyA), trust)
	after, _ := trust.Marshal()
	if !bytes.Equal(before, after) {
		t.Errorf("Verify changed the trust state:\n%s\n%s", before, after)
	}
}

func TestReason(t *testing.T) {
	for sentinel, code := range map[error]string{
		ErrTooLarge: "too_large", ErrMalformed: "malformed", ErrUnknownKey: "unknown_key",
		ErrBadSignature: "bad_signature", ErrUnsupported: "unsupported", ErrRetiredKey: "retired_key",
		ErrWrongTarget: "wrong_target", ErrNotYetValid: "not_yet_valid", ErrExpired: "expired",
		ErrReplay: "replay", ErrDowngrade: "downgrade", ErrSchema: "schema",
	} {
		err := fmt.Errorf("kioskd: %w", reject(sentinel, 3, nil, "x"))
		if got := Reason(err); got != code {
			t.Errorf("Reason(%v) = %q, want %q", err, got, code)
		}
	}
	if Reason(nil) != "" || Reason(errors.New("x")) != "error" || Reason(fmt.Errorf("x: %w", ErrExpired)) != "expired" {
		t.Error("Reason of nil, a plain error or a bare sentinel")
	}
}
