package bundle

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateAndSign(t *testing.T) {
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	data, err := EncodePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(priv) {
		t.Fatal("private key changed in the round trip")
	}
	trust, err := NewTrustState(FormatPublicKey(pub))
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, mustSign(t, baseBundle(), back), trust)
	if _, other, _ := GenerateKey(); other.Equal(priv) {
		t.Error("two generated keys are the same")
	}
}

func TestGoldenKeyFile(t *testing.T) {
	data, err := os.ReadFile("testdata/test-township.key")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := DecodePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	if !priv.Equal(testKey(seedA)) {
		t.Error("the golden key file is not the test key")
	}
	line, _ := os.ReadFile("testdata/test-township.pub")
	pub, err := ParsePublicKey(string(line))
	if err != nil || !pub.Equal(pubOf(priv)) {
		t.Errorf("public key line: %v", err)
	}
}

func TestParsePublicKey(t *testing.T) {
	pub := pubOf(testKey(seedA))
	for _, text := range []string{
		FormatPublicKey(pub),
		FormatPublicKey(pub) + "\n",
		hex.EncodeToString(pub),
		strings.ToUpper(hex.EncodeToString(pub)),
		"  " + hex.EncodeToString(pub) + "\r\n",
	} {
		got, err := ParsePublicKey(text)
		if err != nil || !got.Equal(pub) {
			t.Errorf("%q: %v", text, err)
		}
	}
	b64 := FormatPublicKey(pub)
	for _, text := range []string{
		"",
		"ed25519:" + b64,
		b64[:43],
		strings.TrimRight(b64, "="),
		strings.NewReplacer("+", "-", "/", "_").Replace(b64),
		hex.EncodeToString(pub)[:62] + "zz",
		hex.EncodeToString(append(pub, 0)),
		b64[:len(b64)-2] + "B=", // stray bits in the last character
	} {
		if _, err := ParsePublicKey(text); err == nil {
			t.Errorf("%q accepted", text)
		}
	}
}

func TestDecodePrivateKeyRefuses(t *testing.T) {
	good, err := EncodePrivateKey(testKey(seedA))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(good)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	for name, data := range map[string][]byte{
		"empty":           nil,
		"public key line": []byte(FormatPublicKey(pubOf(testKey(seedA))) + "\n"),
		"other PEM type":  pem.EncodeToMemory(&pem.Block{Type: "ED25519 PRIVATE KEY", Bytes: block.Bytes}),
		"PEM headers":     pem.EncodeToMemory(&pem.Block{Type: pemType, Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: block.Bytes}),
		"two keys":        append(append([]byte{}, good...), good...),
		"trailing text":   append(append([]byte{}, good...), "and more\n"...),
		"damaged DER":     pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: block.Bytes[:len(block.Bytes)-1]}),
		"an ECDSA key":    pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: ecDER}),
	} {
		if _, err := DecodePrivateKey(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := DecodePrivateKey(append(append([]byte{}, good...), "\n\n"...)); err != nil {
		t.Errorf("trailing blank lines: %v", err)
	}
	if _, err := EncodePrivateKey([]byte("short")); err == nil {
		t.Error("encoded a short key")
	}
}

func TestPrivateKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "township.key")
	priv := testKey(seedA)
	if err := WritePrivateKeyFile(path, priv); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	back, err := ReadPrivateKeyFile(path)
	if err != nil || !back.Equal(priv) {
		t.Fatalf("read back: %v", err)
	}

	// keys gen run twice must not destroy the township key.
	before, _ := os.ReadFile(path)
	if err := WritePrivateKeyFile(path, testKey(seedB)); !errors.Is(err, fs.ErrExist) {
		t.Errorf("overwrote an existing key file: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the existing key file changed")
	}

	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPrivateKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("group-readable key file: %v", err)
	}
	if _, err := ReadPrivateKeyFile(filepath.Join(dir, "missing.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := WritePrivateKeyFile(filepath.Join(dir, "no-such-dir", "k"), priv); err == nil {
		t.Error("wrote into a missing directory")
	}
}
