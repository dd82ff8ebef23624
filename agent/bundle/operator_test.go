package bundle

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

const (
	seedD = "fengqiao-bundle-v1-test-key-0004" // an operator's key
	seedE = "fengqiao-bundle-v1-test-key-0005" // another operator's key
)

// certBundle certifies keyD for answers to dev-township's kiosks over
// baseBundle's window.
func certBundle(t *testing.T) Bundle {
	t.Helper()
	content, err := Operator{PublicKey: pubOf(testKey(seedD)), Name: "镇综治中心 值班", Scopes: []string{KindRequestStatus}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b := baseBundle()
	b.Kind, b.Version, b.Content = KindOperatorKey, 5, content
	return b
}

// mustSignWithCert signs b with priv and attaches cert, whatever they are:
// what a forger could send.
func mustSignWithCert(t *testing.T, b Bundle, priv ed25519.PrivateKey, cert []byte) []byte {
	t.Helper()
	payload, err := b.marshalPayload()
	if err != nil {
		t.Fatal(err)
	}
	env, err := json.Marshal(envelopeJSON{KeyID: KeyID(pubOf(priv)), Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(priv, payload)),
		Payload: base64.StdEncoding.EncodeToString(payload), Certificate: base64.StdEncoding.EncodeToString(cert)})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestOperatorKeys(t *testing.T) {
	keyA, keyC, keyD, keyE := testKey(seedA), testKey(seedC), testKey(seedD), testKey(seedE)
	cert := mustSign(t, certBundle(t), keyA)
	withCert := func(edit func(*Bundle)) []byte {
		b := certBundle(t)
		edit(&b)
		return mustSign(t, b, keyA)
	}
	answer := statusBundle()
	good, err := SignAsOperator(answer, keyD, cert)
	if err != nil {
		t.Fatal(err)
	}
	takeStatuses := Options{Validate: acceptAll, ValidateRequestStatus: acceptAll}
	tests := []struct {
		name    string
		env     []byte
		now     time.Time
		retired bool // keyA retired from version 5 on
		want    error
	}{
		{name: "an answer signed by a certified operator", env: good},
		{name: "a site bundle signed by an operator", env: mustSignWithCert(t, baseBundle(), keyD, cert), want: ErrOperatorScope},
		{name: "a key rotation signed by an operator", env: mustSignWithCert(t, func() Bundle {
			b := baseBundle()
			b.Kind, b.Content, b.Rotation = KindKeyRotation, nil, &Rotation{PublicKey: pubOf(keyD), EffectiveVersion: 8}
			return b
		}(), keyD, cert), want: ErrOperatorScope},
		{name: "certificate signed by a key the kiosk does not trust", env: mustSignWithCert(t, answer, keyD, mustSign(t, certBundle(t), keyC)), want: ErrUnknownKey},
		{name: "certificate signed by a retired township key", env: good, retired: true, want: ErrRetiredKey},
		{name: "certificate expired", env: good, now: baseBundle().Expires.Add(DefaultSkew), want: ErrExpired},
		{name: "certificate for another kiosk", env: mustSignWithCert(t, answer, keyD, withCert(func(b *Bundle) { b.Target.Kiosks = []string{"dev-kiosk-02"} })), want: ErrWrongTarget},
		{name: "certificate for this kiosk", env: mustSignWithCert(t, answer, keyD, withCert(func(b *Bundle) { b.Target.Kiosks = []string{"dev-kiosk-01"} }))},
		{name: "another operator with this certificate", env: mustSignWithCert(t, answer, keyE, cert), want: ErrBadSignature},
		{name: "a certificate that is not an operator-key bundle", env: mustSignWithCert(t, answer, keyD, mustSign(t, baseBundle(), keyA)), want: ErrMalformed},
		{name: "a certificate alone", env: cert, want: ErrUnsupported},
		{name: "certificate not base64", env: []byte(`{"key_id":"` + KeyID(pubOf(keyD)) + `","signature":"` + base64.StdEncoding.EncodeToString(make([]byte, 64)) + `","payload":"e30=","certificate":"!!"}`), want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trust, err := NewTrustState(FormatPublicKey(pubOf(keyA)))
			if err != nil {
				t.Fatal(err)
			}
			if tt.retired {
				trust.Keys[0].Until = 5
			}
			now := tt.now
			if now.IsZero() {
				now = testNow
			}
			v, err := Verify(tt.env, trust, thisKiosk, now, takeStatuses)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if err == nil && (v.Operator != "镇综治中心 值班" || v.Kind != KindRequestStatus || v.KeyID != KeyID(pubOf(keyD))) {
				t.Errorf("verified %+v", v)
			}
			if tt.want == ErrOperatorScope && Reason(err) != "operator_scope" {
				t.Errorf("Reason = %q", Reason(err))
			}
		})
	}

	// SignAsOperator refuses what kiosks would refuse.
	if _, err := SignAsOperator(answer, keyE, cert); err == nil {
		t.Error("SignAsOperator with a key the certificate does not name")
	}
	if _, err := SignAsOperator(baseBundle(), keyD, cert); err == nil {
		t.Error("SignAsOperator of a kind the certificate does not allow")
	}
	if _, err := (Operator{PublicKey: pubOf(keyD), Name: "x", Scopes: []string{KindSite}}).Encode(); err == nil {
		t.Error("an operator certified for site bundles")
	}
}

// TestOperatorPointsLedger: a points clerk's key certified for
// points-ledger signs the village's ledger, which kiosks take; a clerk
// certified for answers only cannot sign one, nor the points clerk an
// answer.
func TestOperatorPointsLedger(t *testing.T) {
	keyA, keyD := testKey(seedA), testKey(seedD)
	certFor := func(scopes ...string) []byte {
		content, err := Operator{PublicKey: pubOf(keyD), Name: "兴村 积分管理员", Scopes: scopes}.Encode()
		if err != nil {
			t.Fatal(err)
		}
		b := baseBundle()
		b.Kind, b.Version, b.Content = KindOperatorKey, 5, content
		return mustSign(t, b, keyA)
	}
	trust, err := NewTrustState(FormatPublicKey(pubOf(keyA)))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Validate: acceptAll, ValidateRequestStatus: acceptAll, ValidatePointsLedger: acceptAll}
	ledger, err := SignAsOperator(ledgerBundle(), keyD, certFor(KindPointsLedger))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := Verify(ledger, trust, thisKiosk, testNow, opts); err != nil || v.Operator != "兴村 积分管理员" || v.Scope != "points:kiosk:dev-kiosk-01" {
		t.Errorf("a ledger signed by a points clerk: %+v, %v", v, err)
	}
	if _, err := SignAsOperator(ledgerBundle(), keyD, certFor(KindRequestStatus)); err == nil {
		t.Error("SignAsOperator signed a ledger with an answers-only certificate")
	}
	forged := mustSignWithCert(t, ledgerBundle(), keyD, certFor(KindRequestStatus))
	if _, err := Verify(forged, trust, thisKiosk, testNow, opts); !errors.Is(err, ErrOperatorScope) {
		t.Errorf("a ledger under an answers-only certificate: %v, want ErrOperatorScope", err)
	}
	answer := mustSignWithCert(t, statusBundle(), keyD, certFor(KindPointsLedger))
	if _, err := Verify(answer, trust, thisKiosk, testNow, opts); !errors.Is(err, ErrOperatorScope) {
		t.Errorf("an answer under a points-only certificate: %v, want ErrOperatorScope", err)
	}
}
