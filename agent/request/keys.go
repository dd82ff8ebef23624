package request

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Errors of the request keys.
var (
	// ErrBadSecret means the kiosk's request secret is not KeySize bytes.
	ErrBadSecret = errors.New("request: the request secret must be 32 bytes")
)

// SecretSize is the length of the per-kiosk request secret: the key of
// HMAC-SHA256, kept like the outbox key (outbox.LoadOrCreateKey on
// SecretFile in the data directory, mode 0600, never sent anywhere).
const SecretSize = 32

// SecretFile is the secret's file name in kioskd's data directory.
const SecretFile = "requests.key"

// CodeDigits is the length of an anonymous report's check code: typed on
// the kiosk's number pad with the receipt's number. Ten to the eighth
// codes, and the kiosk locks a number after a few wrong ones
// (core.MaxCheckFailures).
const CodeDigits = 8

// Keys derives the keyed hashes a request is found and checked by. The
// kiosk keeps these, never what they are made from: a stolen store (or
// the township's copy of it) does not give up an ID number, a phone number
// or a check code, since each hash needs the kiosk's secret, and the
// secret is not in the store.
//
//   - Card(type, number): HMAC-SHA256(secret, "fengqiao/request/card/v1" 0 type 0 number),
//     the same for every request of one card on this kiosk, so a card
//     tap finds them all. Another kiosk's secret gives another key.
//   - Proof(id, kind, value): HMAC-SHA256(secret, "fengqiao/request/proof/v1" 0 id 0 kind 0 value),
//     for the phone's last four digits and the check code, salted by the
//     request's record id so that one request's hash says nothing of
//     another's.
type Keys struct{ secret []byte }

// NewKeys returns the keys of a kiosk's secret.
func NewKeys(secret []byte) (*Keys, error) {
	if len(secret) != SecretSize {
		return nil, fmt.Errorf("%w (got %d)", ErrBadSecret, len(secret))
	}
	return &Keys{secret: bytes.Clone(secret)}, nil
}

func (k *Keys) mac(parts ...string) string {
	m := hmac.New(sha256.New, k.secret)
	for i, p := range parts {
		if i > 0 {
			m.Write([]byte{0})
		}
		m.Write([]byte(p))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// Card is the card key of an ID card on this kiosk.
func (k *Keys) Card(idType, idNumber string) string {
	return k.mac("fengqiao/request/card/v1", idType, strings.ToUpper(idNumber))
}

// Proof kinds.
const (
	ProofPhone = "phone4" // the last four digits of the phone given
	ProofCode  = "code"   // an anonymous report's check code
)

// Proof is the stored hash of a proof of the request whose record id is id.
func (k *Keys) Proof(id, kind, value string) string {
	return k.mac("fengqiao/request/proof/v1", id, kind, value)
}

// Matches reports whether value proves the request: stored is its Proof
// hash. The comparison takes the same time wherever they differ.
func (k *Keys) Matches(stored, id, kind, value string) bool {
	if stored == "" {
		return false
	}
	return hmac.Equal([]byte(stored), []byte(k.Proof(id, kind, value)))
}

// NewCode returns a fresh random check code of CodeDigits digits.
func NewCode() (string, error) {
	var b [CodeDigits]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("request: check code: %w", err)
	}
	// 256 % 10 != 0: reject the bytes that would favour low digits.
	out := make([]byte, 0, CodeDigits)
	for len(out) < CodeDigits {
		for _, c := range b {
			if c < 250 && len(out) < CodeDigits {
				out = append(out, '0'+c%10)
			}
		}
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("request: check code: %w", err)
		}
	}
	return string(out), nil
}

// LastFour is the proof a phone number gives: its last four digits.
func LastFour(tel string) string {
	if len(tel) < 4 {
		return ""
	}
	return tel[len(tel)-4:]
}
