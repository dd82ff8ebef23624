package bundle

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// rotationBundle is a township-wide rotation at version to the key of
// seed, effective from effective.
func rotationBundle(version, effective uint64, seed string) Bundle {
	b := baseBundle()
	b.Kind, b.Version, b.Content = KindKeyRotation, version, nil
	b.Rotation = &Rotation{PublicKey: pubOf(testKey(seed)), EffectiveVersion: effective}
	return b
}

// siteBundle is baseBundle at version, for the whole township or for kiosks.
func siteBundle(version uint64, kiosks ...string) Bundle {
	b := baseBundle()
	b.Version = version
	if len(kiosks) > 0 {
		b.Target.Kiosks = kiosks
	}
	return b
}

func TestKeyRotation(t *testing.T) {
	keyA, keyB, keyC := testKey(seedA), testKey(seedB), testKey(seedC)
	before := mustTrust(t, keyA)
	before = mustRecord(t, before, mustVerify(t, mustSign(t, siteBundle(3, "dev-kiosk-01"), keyA), before))
	before = mustRecord(t, before, mustVerify(t, mustSign(t, siteBundle(9), keyA), before))

	rotation := mustVerify(t, mustSign(t, rotationBundle(10, 11, seedB), keyA), before)
	if rotation.Kind != KindKeyRotation || !rotation.Rotation.PublicKey.Equal(pubOf(keyB)) || rotation.Scope != "key:township:dev-township" {
		t.Fatalf("rotation = %+v", rotation)
	}
	after := mustRecord(t, before, rotation)

	// A rotation survives the trust file: check the reloaded state too.
	data, err := after.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	reloaded, err := UnmarshalTrustState(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}

	tests := []struct {
		name string
		env  []byte
		want error
	}{
		{"new key, after the rotation", mustSign(t, siteBundle(12), keyB), nil},
		{"new key, at its effective version", mustSign(t, siteBundle(11, "dev-kiosk-01"), keyB), nil},
		{"old key, after the rotation", mustSign(t, siteBundle(12), keyA), ErrRetiredKey},
		{"old key, at the effective version", mustSign(t, siteBundle(11, "dev-kiosk-01"), keyA), ErrRetiredKey},
		// Bundles signed before the rotation and still retained for a
		// kiosk apply whichever order they arrive in.
		{"old key, an older version still due in another scope", mustSign(t, siteBundle(5, "dev-kiosk-01"), keyA), nil},
		{"new key, below its effective version", mustSign(t, siteBundle(5, "dev-kiosk-01"), keyB), ErrRetiredKey},
		{"a key nobody trusts", mustSign(t, siteBundle(12), keyC), ErrUnknownKey},
		{"the rotation again", mustSign(t, rotationBundle(10, 11, seedB), keyA), ErrReplay},
		{"a rotation signed by an unknown key", mustSign(t, rotationBundle(12, 13, seedC), keyC), ErrUnknownKey},
		{"a rotation signed by the retired key", mustSign(t, rotationBundle(12, 13, seedC), keyA), ErrRetiredKey},
	}
	for _, state := range []struct {
		name  string
		trust *TrustState
	}{{"in memory", after}, {"reloaded", reloaded}} {
		for _, tt := range tests {
			t.Run(state.name+"/"+tt.name, func(t *testing.T) {
				_, err := Verify(tt.env, state.trust, thisKiosk, testNow, Options{Validate: acceptAll})
				if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
			})
		}
	}

	// The state before the rotation is untouched: Record returned a copy.
	if _, err := Verify(mustSign(t, siteBundle(12), keyA), before, thisKiosk, testNow, Options{Validate: acceptAll}); err != nil {
		t.Errorf("the old state changed: %v", err)
	}

	// A bundle verified against the old state cannot be recorded on the
	// new one: Record checks the key again.
	stale := mustVerify(t, mustSign(t, siteBundle(12), keyA), before)
	if _, err := after.Record(stale); !errors.Is(err, ErrRetiredKey) {
		t.Errorf("Record of a bundle by the retired key: %v", err)
	}

	// A second rotation, signed by the new key, retires it in turn.
	third := mustRecord(t, after, mustVerify(t, mustSign(t, rotationBundle(20, 21, seedC), keyB), after))
	for _, c := range []struct {
		env  []byte
		want error
	}{
		{mustSign(t, siteBundle(22), keyC), nil},
		{mustSign(t, siteBundle(22), keyB), ErrRetiredKey},
		{mustSign(t, siteBundle(22), keyA), ErrRetiredKey},
		{mustSign(t, siteBundle(15, "dev-kiosk-01"), keyB), nil},
	} {
		if _, err := Verify(c.env, third, thisKiosk, testNow, Options{Validate: acceptAll}); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("after the second rotation: err = %v, want %v", err, c.want)
		}
	}
	if len(third.Keys) != 3 || third.Keys[0].Until != 11 || third.Keys[1].From != 11 || third.Keys[1].Until != 21 || third.Keys[2].From != 21 || third.Keys[2].Until != 0 {
		t.Errorf("keys after two rotations: %+v", third.Keys)
	}
}

func TestRecord(t *testing.T) {
	keyA := testKey(seedA)
	trust := mustTrust(t, keyA)
	v := mustVerify(t, mustSign(t, siteBundle(7), keyA), trust)
	next := mustRecord(t, trust, v)
	if next.Applied["township:dev-township"] != 7 || len(trust.Applied) != 0 {
		t.Errorf("applied: next %v, old %v", next.Applied, trust.Applied)
	}
	if _, err := next.Record(v); !errors.Is(err, ErrReplay) {
		t.Errorf("second Record: %v", err)
	}
	older := mustVerify(t, mustSign(t, siteBundle(5), keyA), trust)
	if _, err := next.Record(older); !errors.Is(err, ErrDowngrade) {
		t.Errorf("Record of an older version: %v", err)
	}
	if _, err := next.Record(nil); err == nil {
		t.Error("Record(nil)")
	}
	// A zero TrustState (no Applied map) still records.
	if _, err := (&TrustState{Keys: trust.Keys}).Record(v); err != nil {
		t.Error(err)
	}
}

func TestNewTrustState(t *testing.T) {
	pub := pubOf(testKey(seedA))
	hexText := strings.ToUpper(hex.EncodeToString(pub)) // as pasted from some tool
	s, err := NewTrustState(FormatPublicKey(pub), hexText, " "+FormatPublicKey(pub)+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Keys) != 1 || !s.Keys[0].PublicKey.Equal(pub) || s.Keys[0].From != 0 || s.Keys[0].Until != 0 {
		t.Errorf("keys = %+v (the same key three times is one key)", s.Keys)
	}
	if _, err := NewTrustState(); err == nil {
		t.Error("no keys accepted")
	}
	if _, err := NewTrustState(FormatPublicKey(pub), "not a key"); err == nil || !strings.Contains(err.Error(), "township key 2") {
		t.Errorf("bad key: %v", err)
	}
}

func TestTrustStateFile(t *testing.T) {
	keyA := testKey(seedA)
	trust := mustTrust(t, keyA)
	trust = mustRecord(t, trust, mustVerify(t, mustSign(t, siteBundle(3, "dev-kiosk-01"), keyA), trust))
	trust = mustRecord(t, trust, mustVerify(t, mustSign(t, rotationBundle(8, 9, seedB), keyA), trust))
	data, err := trust.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "trust.json", data)
	back, err := UnmarshalTrustState(data)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := back.Marshal()
	if !bytes.Equal(again, data) {
		t.Errorf("round trip changed the file:\n%s\n%s", data, again)
	}

	good := string(data)
	idA := KeyID(pubOf(keyA))
	for name, text := range map[string]string{
		"empty":            "",
		"not JSON":         "trust me",
		"other format":     strings.Replace(good, TrustFormat, "bundle-trust/v2", 1),
		"unknown member":   strings.Replace(good, `"format"`, `"note": "x", "format"`, 1),
		"no keys":          `{"format": "bundle-trust/v1", "keys": [], "applied": {}}`,
		"id of another":    strings.Replace(good, idA, "0000000000000000", 1),
		"short key":        strings.Replace(good, FormatPublicKey(pubOf(keyA)), "AAAA", 1),
		"bad scope":        strings.Replace(good, `"kiosk:dev-kiosk-01"`, `"village:dev-village"`, 1),
		"bad scope id":     strings.Replace(good, `"kiosk:dev-kiosk-01"`, `"kiosk:Dev"`, 1),
		"zero version":     strings.Replace(good, `"kiosk:dev-kiosk-01": 3`, `"kiosk:dev-kiosk-01": 0`, 1),
		"until before":     strings.Replace(good, `"from_version": 9`, `"from_version": 9, "until_version": 9`, 1),
		"null":             strings.Replace(good, `"applied": {`, `"applied": null, "x": {`, 1),
		"scope twice":      strings.Replace(good, `"kiosk:dev-kiosk-01": 3`, `"kiosk:dev-kiosk-01": 3, "kiosk:dev-kiosk-01": 4`, 1),
		"trailing":         good + "{}",
		"version too high": strings.Replace(good, `"kiosk:dev-kiosk-01": 3`, `"kiosk:dev-kiosk-01": 9007199254740992`, 1),
	} {
		if text == good {
			t.Fatalf("%s: the edit did not apply", name)
		}
		if _, err := UnmarshalTrustState([]byte(text)); err == nil {
			t.Errorf("%s: accepted:\n%s", name, text)
		}
	}
	if _, err := (&TrustState{}).Marshal(); err == nil {
		t.Error("Marshal of a state without keys")
	}
}

// TestTrustStateUpdateScope: the version of an update bundle is kept under
// its own scope and survives the trust file.
func TestTrustStateUpdateScope(t *testing.T) {
	keyA := testKey(seedA)
	trust := mustTrust(t, keyA)
	v, err := Verify(mustSign(t, updateBundle(), keyA), trust, thisKiosk, testNow, Options{Validate: acceptAll, ValidateUpdate: acceptAll})
	if err != nil {
		t.Fatal(err)
	}
	trust = mustRecord(t, trust, v)
	data, err := trust.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalTrustState(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.Applied["update:township:dev-township"] != 7 || back.Applied["township:dev-township"] != 0 {
		t.Errorf("applied = %v", back.Applied)
	}
	for _, bad := range []string{"update:village:x", "update:update:township:x", "key:update:township:x", "update:township:X"} {
		text := strings.Replace(string(data), "update:township:dev-township", bad, 1)
		if _, err := UnmarshalTrustState([]byte(text)); err == nil {
			t.Errorf("scope %q accepted", bad)
		}
	}
}

// TestRotationWindow: a rotation is a bundle like any other, refused outside
// its time window and for another township.
func TestRotationWindow(t *testing.T) {
	keyA := testKey(seedA)
	trust := mustTrust(t, keyA)
	r := rotationBundle(10, 11, seedB)
	env := mustSign(t, r, keyA)
	if _, err := Verify(env, trust, thisKiosk, r.Expires.Add(time.Hour), Options{Validate: acceptAll}); !errors.Is(err, ErrExpired) {
		t.Errorf("expired rotation: %v", err)
	}
	if _, err := Verify(env, trust, Identity{Kiosk: "dev-kiosk-01", Township: "other"}, testNow, Options{Validate: acceptAll}); !errors.Is(err, ErrWrongTarget) {
		t.Errorf("rotation for another township: %v", err)
	}
	// The validator is for site files; a rotation has none to check.
	if _, err := Verify(env, trust, thisKiosk, testNow, Options{Validate: func([]byte) error { return errors.New("no") }}); err != nil {
		t.Errorf("rotation checked as a site file: %v", err)
	}
}

func TestRecordRefusesRequestStatus(t *testing.T) {
	s, err := NewTrustState(FormatPublicKey(pubOf(testKey(seedA))))
	if err != nil {
		t.Fatal(err)
	}
	b := statusBundle()
	_, err = s.Record(&Verified{Bundle: b, KeyID: KeyID(pubOf(testKey(seedA))), Scope: RequestScope(thisKiosk)})
	if err == nil {
		t.Fatal("Record took a request status: it would be ordered against the trust state")
	}
}
