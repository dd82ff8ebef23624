package bundle

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"testing"
)

// fuzzValidate stands in for agent/config: it refuses some content, so the
// fuzzer reaches ErrSchema too.
func fuzzValidate(content []byte) error {
	if bytes.Contains(content, []byte("invalid")) {
		return errors.New("invalid site file")
	}
	return nil
}

// fuzzOptions take site bundles, patches and update bundles alike, so the
// fuzzer reaches every kind's checks.
var fuzzOptions = Options{Validate: fuzzValidate, ValidatePatch: fuzzValidate, ValidateUpdate: fuzzValidate}

// fuzzTrust trusts the golden key and has applied version 3 township-wide.
func fuzzTrust(f *testing.F) *TrustState {
	trust := mustTrust(f, testKey(seedA))
	trust.Applied = map[string]uint64{"township:dev-township": 3}
	return trust
}

// checkOutcome holds for every input: a refusal is an *Error with a known
// reason and no bundle; an acceptance is a well-formed bundle for this kiosk,
// newer than the applied one, inside its window, that signs again to a bundle
// verifying the same.
func checkOutcome(t *testing.T, trust *TrustState, v *Verified, err error) {
	if err != nil {
		var be *Error
		if !errors.As(err, &be) || Reason(err) == "error" {
			t.Fatalf("not a typed refusal: %T %v", err, err)
		}
		if v != nil {
			t.Fatal("a bundle returned with an error")
		}
		_ = err.Error()
		return
	}
	if cerr := v.Bundle.check(); cerr != nil {
		t.Fatalf("accepted a malformed bundle: %v", cerr)
	}
	if !v.Target.Includes(thisKiosk) || v.Version <= trust.Applied[v.Scope] {
		t.Fatalf("accepted %+v", v)
	}
	if testNow.Before(v.NotBefore.Add(-DefaultSkew)) || !testNow.Before(v.Expires.Add(DefaultSkew)) {
		t.Fatalf("accepted outside its window: %+v", v)
	}
	again, err := Sign(v.Bundle, testKey(seedA))
	if err != nil {
		t.Fatalf("an accepted bundle does not sign: %v", err)
	}
	v2, err := Verify(again, trust, thisKiosk, testNow, fuzzOptions)
	if err != nil || !reflect.DeepEqual(v2.Bundle, v.Bundle) {
		t.Fatalf("re-signed bundle: %v\n%+v\n%+v", err, v2, v)
	}
}

// FuzzVerify feeds arbitrary envelopes, as they may arrive from the broker.
// Seeds live in testdata/fuzz/FuzzVerify; the golden envelopes are added
// here as well.
func FuzzVerify(f *testing.F) {
	for _, name := range []string{"testdata/site-bundle.json", "testdata/rotation-bundle.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(mustSign(f, updateBundle(), testKey(seedA)))
	f.Add(mustSign(f, patchBundle(), testKey(seedA)))
	trust := fuzzTrust(f)
	f.Fuzz(func(t *testing.T, envelope []byte) {
		v, err := Verify(envelope, trust, thisKiosk, testNow, fuzzOptions)
		checkOutcome(t, trust, v, err)
	})
}

// FuzzVerifyPayload feeds arbitrary payloads under a valid signature: the
// mutations FuzzVerify makes rarely get past the signature, and the payload
// parser must be as robust, since a township tool in another language may
// sign what it likes.
func FuzzVerifyPayload(f *testing.F) {
	for _, name := range []string{"testdata/site-bundle.payload.json", "testdata/rotation-bundle.payload.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	ub := updateBundle()
	if p, err := ub.marshalPayload(); err == nil {
		f.Add(p)
	}
	trust := fuzzTrust(f)
	key := testKey(seedA)
	f.Fuzz(func(t *testing.T, payload []byte) {
		envelope, err := signPayload(payload, key)
		if err != nil {
			t.Fatal(err)
		}
		v, err := Verify(envelope, trust, thisKiosk, testNow, fuzzOptions)
		switch Reason(err) {
		case "unknown_key", "bad_signature":
			t.Fatalf("a correctly signed payload was refused: %v", err)
		case "too_large":
			return
		}
		checkOutcome(t, trust, v, err)
	})
}
