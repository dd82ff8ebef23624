package points

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySize is the length of a township's points key.
const KeySize = 32

// DevKeyID is the id of the dev township's points key, committed in
// packaging/dev/dev-points.key: anyone can key a ledger with it, and so
// brute-force the ID numbers behind its accounts, so a production kiosk
// refuses it.
const DevKeyID = "49421a5bb6d66bc4"

// Errors of the points key.
var (
	// ErrBadKey means a points key file does not hold a points key, or is
	// readable by others where that is refused.
	ErrBadKey = errors.New("points: bad points key file")
	// ErrDevKey means a production kiosk was given the dev points key.
	ErrDevKey = errors.New("points: the dev township's points key (key id " + DevKeyID + ")")
	// ErrNoKey means the kiosk has no points key: it cannot find any
	// villager's account, only show the public part.
	ErrNoKey = errors.New("points: no points key on this kiosk (points.key_file)")
	// ErrBadIDNumber means an ID number is not one a card carries.
	ErrBadIDNumber = errors.New("points: not an ID number")
)

// Key is a township's points key: the HMAC key account keys are made with.
// The township keeps it with the ledger export and provisions it on each
// of its kiosks as a file; it never travels over MQTT, since with it anyone
// could try every ID number of the village (a small space: a birth date, a
// region and a few digits) against the ledger's accounts.
type Key struct{ k []byte }

// NewKey is the key of KeySize raw bytes.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrBadKey, len(raw), KeySize)
	}
	return &Key{k: append([]byte(nil), raw...)}, nil
}

// GenerateKey makes a new points key.
func GenerateKey() (*Key, error) {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("points: %w", err)
	}
	return &Key{k: raw}, nil
}

// Text is the key file's content: the key's standard base64 and a newline.
func (k *Key) Text() []byte {
	return []byte(base64.StdEncoding.EncodeToString(k.k) + "\n")
}

// ID names the key in a ledger (its key_id) and in reports: the lower-case
// hex of the first 8 bytes of the SHA-256 of the key. It lets a kiosk see
// that a ledger was keyed with another key; it gives nothing of the key.
func (k *Key) ID() string {
	sum := sha256.Sum256(k.k)
	return hex.EncodeToString(sum[:8])
}

// ReadKeyFile reads a points key file (Text). With private, a file that
// others than its owner may read is refused, as the outbox key is: a
// production kiosk's key must be mode 0600. A dev checkout's committed key
// has whatever mode git gave it.
func ReadKeyFile(path string, private bool) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not the base64 of a key (kioskctl points key gen makes one)", ErrBadKey, path)
	}
	k, err := NewKey(raw)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	if private {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("%w: %s is readable by others (mode %v); chmod 600 it", ErrBadKey, path, fi.Mode().Perm())
		}
	}
	return k, nil
}

// NormalizeIDNumber is the ID number as account keys are made of it: spaces
// around it dropped, letters upper-cased (a final x is the check character
// X). It refuses what no card carries: an 18-character number of the GB
// 11643 scheme (resident card, residence permit, 2023 foreigner card) or a
// 15-character old foreigner's permit number; the check character is the
// caller's to check (kioskctl checks it on the village's export; a card the
// reader read has been checked already).
func NormalizeIDNumber(s string) (string, error) {
	n := strings.ToUpper(strings.TrimSpace(s))
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return "", fmt.Errorf("%w: a character other than a digit or letter at position %d", ErrBadIDNumber, i+1)
		}
	}
	if len(n) != 18 && len(n) != 15 {
		return "", fmt.Errorf("%w: %d characters, want 18 (or 15 for an old foreigner's permit)", ErrBadIDNumber, len(n))
	}
	return n, nil
}

// Account is the account key of an ID number: the lower-case hex of
// HMAC-SHA256(key, "fengqiao/points/account/v1" 0x00 number), the number
// normalised (NormalizeIDNumber).
//
// The card's type is not in it, unlike a request's card key: the village's
// export has ID numbers and no card types, and a villager's resident card
// and the temporary card they carry while it is renewed have one number
// and must find one account. Numbers of the schemes never collide.
func (k *Key) Account(idNumber string) (string, error) {
	n, err := NormalizeIDNumber(idNumber)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, k.k)
	m.Write([]byte("fengqiao/points/account/v1"))
	m.Write([]byte{0})
	m.Write([]byte(n))
	return hex.EncodeToString(m.Sum(nil)), nil
}
