package sealed

import (
	"crypto/hpke"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/fengqiao/kiosk/agent/schema"
)

// Why epochs: a single-shot seal is one HPKE encapsulation, two X25519
// operations (about 96 µs on the kiosk's path, more on an ARM board), for
// every field of every record. A village booking rush is bounded by CPU,
// not disk, once the outbox commits in groups (docs/intake.md, issue
// 15). So a kiosk encapsulates once per epoch and seals each field with a
// key drawn from that epoch's HPKE context by its exporter (RFC 9180
// §5.3), with the record's id and the field's path as the exporter
// context: each field still has a key of its own, bound to its record and
// field, and the per-field cost is one HKDF-Expand and one AEAD seal.
//
// What an epoch gives up: the values sealed in one epoch share its
// encapsulated key, so the broker sees that they came from the same kiosk
// within the same hour, which the records' source and time already say.
// A record that must not be linked to the others (an anonymous report)
// carries no sealed field. Whoever reads the kiosk's memory during an epoch
// can open that epoch's fields, but they could read the plaintexts there
// as they were typed.

// EpochLife is how long a kiosk seals under one encapsulation.
const EpochLife = time.Hour

// epochInfo is the HPKE info of an epoch's context, bound to the key it is
// sealed to; the record and field are bound by the exporter context.
func epochInfo(keyID string) []byte {
	return []byte(epochLabel + "\x00" + keyID)
}

const (
	epochLabel = "fengqiao records sealed epoch v2"
	// fieldLabel starts the exporter context of a field's key.
	fieldLabel = "fengqiao records sealed field v2"
)

func fieldContext(recordID, path string) string {
	return fieldLabel + "\x00" + recordID + "\x00" + path
}

// Sealer seals record fields to one records key, one encapsulation per
// epoch. It is safe for concurrent use.
type Sealer struct {
	key  *PublicKey
	now  func() time.Time
	life time.Duration

	mu      sync.Mutex
	epoch   *epoch
	started time.Time
}

type epoch struct {
	enc    []byte
	sender *hpke.Sender
}

// NewSealer seals to key, starting a new epoch when life has passed by
// now (time.Now when nil; life EpochLife when 0). A clock set back at boot
// starts a new epoch too: an epoch never outlives life by a wrong clock.
func NewSealer(key *PublicKey, now func() time.Time, life time.Duration) *Sealer {
	if now == nil {
		now = time.Now
	}
	if life <= 0 {
		life = EpochLife
	}
	return &Sealer{key: key, now: now, life: life}
}

// Key is the records key sealed to.
func (s *Sealer) Key() *PublicKey { return s.key }

// current is the epoch in force, a new one when it is due.
func (s *Sealer) current() (*epoch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if age := now.Sub(s.started); s.epoch != nil && age >= 0 && age < s.life {
		return s.epoch, nil
	}
	enc, sender, err := hpke.NewSender(s.key.key, kdf, aead, epochInfo(s.key.id))
	if err != nil {
		return nil, fmt.Errorf("sealed: new epoch: %w", err)
	}
	s.epoch, s.started = &epoch{enc: enc, sender: sender}, now
	return s.epoch, nil
}

// Seal seals plaintext as field path of record recordID.
func (s *Sealer) Seal(recordID, path, plaintext string) (schema.Sealed, error) {
	e, err := s.current()
	if err != nil {
		return schema.Sealed{}, err
	}
	// The exporter is a pure function of the context's secret: safe to
	// call from many goroutines without the lock.
	key, err := e.sender.Export(fieldContext(recordID, path), chacha20poly1305.KeySize)
	if err != nil {
		return schema.Sealed{}, fmt.Errorf("sealed: seal %s: %w", path, err)
	}
	a, err := chacha20poly1305.New(key)
	if err != nil {
		return schema.Sealed{}, fmt.Errorf("sealed: seal %s: %w", path, err)
	}
	// The key is the field's own, so one nonce would do; a random one
	// keeps a field sealed twice in an epoch (a retried build) safe.
	box := make([]byte, chacha20poly1305.NonceSize, chacha20poly1305.NonceSize+len(plaintext)+a.Overhead())
	if _, err := rand.Read(box); err != nil {
		return schema.Sealed{}, fmt.Errorf("sealed: seal %s: %w", path, err)
	}
	box = a.Seal(box, box, []byte(plaintext), nil)
	return schema.Sealed{KeyID: s.key.id, Enc: e.enc, Box: box}, nil
}

// maxRecipients bounds the opener's cache of decapsulated epochs: a kiosk
// makes 24 a day, and a township tool reading a week's backlog of a few
// hundred kiosks stays within it; past it the cache starts again, which
// costs time, not correctness.
const maxRecipients = 4096

// recipient is the decapsulated context of an epoch, cached so that the
// township pays the X25519 operation once per epoch, not per field.
func (o *Opener) recipient(k *PrivateKey, enc []byte) (*hpke.Recipient, error) {
	id := k.id + string(enc)
	o.mu.Lock()
	r, ok := o.epochs[id]
	o.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := hpke.NewRecipient(enc, k.key, kdf, aead, epochInfo(k.id))
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	if len(o.epochs) >= maxRecipients {
		clear(o.epochs)
	}
	o.epochs[id] = r
	o.mu.Unlock()
	return r, nil
}

// openEpoch opens a value sealed by a Sealer.
func (o *Opener) openEpoch(k *PrivateKey, recordID, path string, s schema.Sealed) (string, error) {
	if len(s.Enc) != 32 || len(s.Box) < chacha20poly1305.NonceSize+chacha20poly1305.Overhead {
		return "", fmt.Errorf("%w: %s: enc %d bytes, sealed %d bytes", ErrMalformed, path, len(s.Enc), len(s.Box))
	}
	r, err := o.recipient(k, s.Enc)
	if err != nil {
		return "", fmt.Errorf("%w: %s: key %s", ErrOpen, path, s.KeyID)
	}
	key, err := r.Export(fieldContext(recordID, path), chacha20poly1305.KeySize)
	if err != nil {
		return "", fmt.Errorf("%w: %s: key %s", ErrOpen, path, s.KeyID)
	}
	a, err := chacha20poly1305.New(key)
	if err != nil {
		return "", fmt.Errorf("%w: %s: key %s", ErrOpen, path, s.KeyID)
	}
	nonce, ct := s.Box[:chacha20poly1305.NonceSize], s.Box[chacha20poly1305.NonceSize:]
	pt, err := a.Open(nil, nonce, ct, nil)
	if err != nil {
		return "", fmt.Errorf("%w: %s: key %s", ErrOpen, path, s.KeyID)
	}
	return string(pt), nil
}
