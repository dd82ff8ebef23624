package bundle

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// goldenSite and goldenRotation are the bundles of the golden envelopes,
// printed in docs/bundles.md.
func goldenSite() Bundle {
	return Bundle{
		Kind:      KindSite,
		Version:   7,
		Target:    Target{Township: "dev-township", Kiosks: []string{"dev-kiosk-01", "dev-kiosk-02"}},
		NotBefore: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC),
		Expires:   time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC),
		Content:   []byte("schema: fengqiao.site/v1\nmode: dev\n"),
	}
}

func goldenRotation() Bundle {
	return Bundle{
		Kind:      KindKeyRotation,
		Version:   8,
		Target:    Target{Township: "dev-township"},
		NotBefore: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC),
		Expires:   time.Date(2027, 11, 25, 0, 0, 0, 0, time.UTC),
		Rotation:  &Rotation{PublicKey: pubOf(testKey(seedB)), EffectiveVersion: 9},
	}
}

// TestGolden pins the format: the envelopes signed by the fixed test key are
// byte for byte the files in testdata/, and verify to the bundles they came
// from. A change here breaks every signer and every kiosk in the field.
func TestGolden(t *testing.T) {
	keyA := testKey(seedA)
	for _, g := range []struct {
		file   string
		bundle Bundle
		scope  string
	}{
		{"site-bundle.json", goldenSite(), "kiosk:dev-kiosk-01"},
		{"rotation-bundle.json", goldenRotation(), "key:township:dev-township"},
	} {
		t.Run(g.file, func(t *testing.T) {
			env := mustSign(t, g.bundle, keyA)
			golden(t, g.file, env)
			golden(t, strings.Replace(g.file, ".json", ".payload.json", 1), payloadOf(t, env))

			fromFile, err := os.ReadFile(filepath.Join("testdata", g.file))
			if err != nil {
				t.Fatal(err)
			}
			v := mustVerify(t, fromFile, mustTrust(t, keyA))
			if !reflect.DeepEqual(v.Bundle, g.bundle) || v.Scope != g.scope || v.KeyID != "8701a2641424f55b" {
				t.Errorf("verified %+v scope %s key %s\nwant %+v", v.Bundle, v.Scope, v.KeyID, g.bundle)
			}
		})
	}
	golden(t, "test-township.pub", []byte(FormatPublicKey(pubOf(keyA))+"\n"))
	pemKey, err := EncodePrivateKey(keyA)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "test-township.key", pemKey)
}

// TestOpenSSL shows the format needs nothing of Go: OpenSSL reads the key
// file, signs the golden payload bytes and gets the golden signature
// (Ed25519 signatures are deterministic).
func TestOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is not installed (make deps installs it): the documented signing recipe must be checked")
	}
	env, err := os.ReadFile("testdata/site-bundle.json")
	if err != nil {
		t.Fatal(err)
	}
	var e envelopeJSON
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	payload := filepath.Join(dir, "payload")
	if err := os.WriteFile(payload, mustB64(t, e.Payload), 0o600); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "township.key")
	data, _ := os.ReadFile("testdata/test-township.key")
	if err := os.WriteFile(key, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", payload).Output()
	if err != nil {
		t.Fatalf("openssl pkeyutl -sign -rawin failed: it must sign Ed25519 as docs/bundles.md says (%v)", err)
	}
	if got := base64.StdEncoding.EncodeToString(out); got != e.Signature {
		t.Errorf("openssl signature %s, golden %s", got, e.Signature)
	}
}

func TestSignRefuses(t *testing.T) {
	keyA := testKey(seedA)
	huge := baseBundle()
	huge.Content = bytes.Repeat([]byte("x"), MaxEnvelopeSize)
	for name, edit := range map[string]func(b *Bundle){
		"no kind":                func(b *Bundle) { b.Kind = "" },
		"unknown kind":           func(b *Bundle) { b.Kind = "firmware" },
		"version zero":           func(b *Bundle) { b.Version = 0 },
		"version too large":      func(b *Bundle) { b.Version = MaxVersion + 1 },
		"no township":            func(b *Bundle) { b.Target.Township = "" },
		"empty kiosk list":       func(b *Bundle) { b.Target.Kiosks = []string{} },
		"bad kiosk id":           func(b *Bundle) { b.Target.Kiosks = []string{"Kiosk 1"} },
		"kiosk twice":            func(b *Bundle) { b.Target.Kiosks = []string{"a", "b", "a"} },
		"no not_before":          func(b *Bundle) { b.NotBefore = time.Time{} },
		"no expiry":              func(b *Bundle) { b.Expires = time.Time{} },
		"empty window":           func(b *Bundle) { b.Expires = b.NotBefore },
		"no content":             func(b *Bundle) { b.Content = nil },
		"site with rotation":     func(b *Bundle) { b.Rotation = &Rotation{PublicKey: pubOf(keyA), EffectiveVersion: 9} },
		"rotation without key":   func(b *Bundle) { *b = rotationBundle(8, 9, seedB); b.Rotation.PublicKey = nil },
		"rotation with content":  func(b *Bundle) { *b = rotationBundle(8, 9, seedB); b.Content = []byte("x") },
		"rotation not ahead":     func(b *Bundle) { *b = rotationBundle(8, 8, seedB) },
		"rotation missing":       func(b *Bundle) { b.Kind = KindKeyRotation; b.Content = nil },
		"too large":              func(b *Bundle) { *b = huge },
		"update without content": func(b *Bundle) { *b = updateBundle(); b.Content = nil },
		"update with rotation": func(b *Bundle) {
			*b = updateBundle()
			b.Rotation = &Rotation{PublicKey: pubOf(keyA), EffectiveVersion: 9}
		},
	} {
		b := baseBundle()
		edit(&b)
		if env, err := Sign(b, keyA); err == nil {
			t.Errorf("%s: signed %.80s", name, env)
		}
	}
	if _, err := Sign(baseBundle(), ed25519.PrivateKey("short")); err == nil {
		t.Error("signed with a short key")
	}
}

// TestSignNormalisesTime: times are written in UTC whatever zone the
// township's CLI runs in, so the same bundle signs to the same bytes.
func TestSignNormalisesTime(t *testing.T) {
	keyA := testKey(seedA)
	b := baseBundle()
	shanghai := time.FixedZone("CST", 8*3600)
	b.NotBefore, b.Expires = b.NotBefore.In(shanghai), b.Expires.In(shanghai)
	if got, want := mustSign(t, b, keyA), mustSign(t, baseBundle(), keyA); !bytes.Equal(got, want) {
		t.Errorf("zone changed the bytes:\n%s\n%s", got, want)
	}
}
