package bundle

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The fixed test keys. Their seeds are printed in docs/bundles.md so that
// another implementation can reproduce the golden envelopes byte for byte.
// Never trust these keys on a real kiosk.
const (
	seedA = "fengqiao-bundle-v1-test-key-0001" // the township key of the golden files
	seedB = "fengqiao-bundle-v1-test-key-0002" // the key the golden rotation names
	seedC = "fengqiao-bundle-v1-test-key-0003" // a key nobody trusts
)

func testKey(seed string) ed25519.PrivateKey { return ed25519.NewKeyFromSeed([]byte(seed)) }

func pubOf(priv ed25519.PrivateKey) ed25519.PublicKey { return priv.Public().(ed25519.PublicKey) }

// thisKiosk is the kiosk every test verifies as.
var thisKiosk = Identity{Kiosk: "dev-kiosk-01", Township: "dev-township"}

// testNow lies inside baseBundle's window.
var testNow = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

func baseBundle() Bundle {
	return Bundle{
		Kind:      KindSite,
		Version:   7,
		Target:    Target{Township: "dev-township"},
		NotBefore: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC),
		Expires:   time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC),
		Content:   []byte("schema: fengqiao.site/v1\nmode: dev\n"),
	}
}

// updateBundle is baseBundle as an update; its content stands for a
// manifest, which this package does not read.
func updateBundle() Bundle {
	b := baseBundle()
	b.Kind = KindUpdate
	b.Content = []byte(`{"format":"fengqiao.update/v1"}`)
	return b
}

// statusBundle is baseBundle as a request status for this kiosk; its
// content stands for a request-status/v1 answer, which this package does
// not read.
func statusBundle() Bundle {
	b := baseBundle()
	b.Kind = KindRequestStatus
	b.Target.Kiosks = []string{"dev-kiosk-01"}
	b.Content = []byte(`{"format":"request-status/v1"}`)
	return b
}

// ledgerBundle is baseBundle as a points ledger for this kiosk and
// another of its village; its content stands for a gzipped
// points-ledger/v1 ledger, which this package does not read.
func ledgerBundle() Bundle {
	b := baseBundle()
	b.Kind = KindPointsLedger
	b.Target.Kiosks = []string{"dev-kiosk-01", "dev-kiosk-03"}
	b.Content = []byte("\x1f\x8b ledger")
	return b
}

// patchBundle is baseBundle as a site patch.
func patchBundle() Bundle {
	b := baseBundle()
	b.Kind = KindSitePatch
	b.Content = []byte("schema: fengqiao.site-patch/v1\nui:\n  idle: 90s\n")
	return b
}

func acceptAll([]byte) error { return nil }

func mustSign(t testing.TB, b Bundle, priv ed25519.PrivateKey) []byte {
	t.Helper()
	env, err := Sign(b, priv)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return env
}

func mustSignPayload(t testing.TB, payload string, priv ed25519.PrivateKey) []byte {
	t.Helper()
	env, err := signPayload([]byte(payload), priv)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func mustTrust(t testing.TB, keys ...ed25519.PrivateKey) *TrustState {
	t.Helper()
	var texts []string
	for _, k := range keys {
		texts = append(texts, FormatPublicKey(pubOf(k)))
	}
	s, err := NewTrustState(texts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustVerify(t testing.TB, env []byte, trust *TrustState) *Verified {
	t.Helper()
	v, err := Verify(env, trust, thisKiosk, testNow, Options{Validate: acceptAll})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return v
}

func mustRecord(t testing.TB, trust *TrustState, v *Verified) *TrustState {
	t.Helper()
	next, err := trust.Record(v)
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	return next
}

// mustEditEnvelope decodes env into its three members, lets edit change
// them, and encodes the result again without re-signing.
func mustEditEnvelope(t testing.TB, env []byte, edit func(e map[string]string)) []byte {
	t.Helper()
	var e map[string]string
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	edit(e)
	out, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed; the bundle/v1 format is pinned by it.\n got: %s\nwant: %s", path, got, want)
	}
}
