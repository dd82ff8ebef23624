// Package sealed owns how a kiosk seals a record field for the township,
// so that the broker and anyone subscribed to the record topics see only
// ciphertext, and how the township opens it again.
//
// A sealed field is HPKE (RFC 9180) in base mode with DHKEM(X25519,
// HKDF-SHA256), HKDF-SHA256 and ChaCha20-Poly1305, from Go's standard
// library crypto/hpke: a kept, reviewed implementation of a published
// standard, so the kiosk project writes no key agreement, key schedule or
// nonce handling of its own. ChaCha20-Poly1305 because it is constant time
// in software: a kiosk board without AES instructions is as safe as one
// with them.
//
// Each field is sealed on its own, to the township's records key named by
// its key id, with HPKE's info binding it to the record's id and the
// field's path in the body: a sealed value copied into another record, or
// into another field of the same record, does not open. The township keeps
// every private key it may still receive records for (a key rotation
// leaves records sealed to the old key in kiosks' outboxes), and Opener
// picks the one the key id names.
//
// The package imports nothing of the agent's but agent/schema, so township
// tools can use it.
package sealed

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/fengqiao/kiosk/agent/schema"
)

// Errors of opening a sealed value, and of reading keys.
var (
	// ErrMalformed means the sealed value is not one this package writes:
	// a key id that is not 16 hex digits, a box too short to hold an
	// encapsulated key and a tag.
	ErrMalformed = errors.New("sealed: malformed sealed value")
	// ErrUnknownKey means the value is sealed to a key the township does
	// not hold (another township's, or one retired and thrown away).
	ErrUnknownKey = errors.New("sealed: sealed to a key not held")
	// ErrOpen means the value does not open with the key its id names: it
	// was tampered with, or moved from another record or field.
	ErrOpen = errors.New("sealed: value does not open")
	// ErrKey means a key in text or in a file is not an X25519 key.
	ErrKey = errors.New("sealed: not an X25519 records key")
)

// Suite is the HPKE ciphersuite, fixed: a township tool reading the
// records needs no negotiation, and a change is a new schema version.
var (
	kem  = hpke.DHKEM(ecdh.X25519())
	kdf  = hpke.HKDFSHA256()
	aead = hpke.ChaCha20Poly1305()
)

// infoLabel starts every HPKE info: a key used for something else one day
// cannot be tricked into opening a records field.
const infoLabel = "fengqiao records sealed field v1"

// info binds a sealed value to its record and its field.
func info(recordID, path string) []byte {
	return []byte(infoLabel + "\x00" + recordID + "\x00" + path)
}

// KeyID is a records key's id: the first 8 bytes of the SHA-256 of its 32
// public bytes, in hex, as a signing key's id is made (agent/bundle).
func KeyID(pub []byte) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// PublicKey is the township's records key as a kiosk holds it.
type PublicKey struct {
	key hpke.PublicKey
	id  string
}

// ID is the key's id, carried by every value sealed to it.
func (k *PublicKey) ID() string { return k.id }

// Bytes are the key's 32 public bytes.
func (k *PublicKey) Bytes() []byte { return k.key.Bytes() }

// String is the key's text form, as the site file holds it.
func (k *PublicKey) String() string { return base64.StdEncoding.EncodeToString(k.key.Bytes()) }

// ParsePublicKey reads the text form of a records key: standard base64 of
// its 32 bytes (FormatPublicKey), surrounding white space ignored.
func ParsePublicKey(s string) (*PublicKey, error) {
	s = strings.TrimSpace(s)
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("%w: want 44 characters of base64 (32 bytes), as kioskctl keys gen --encryption prints", ErrKey)
	}
	pub, err := kem.NewPublicKey(b)
	if err == nil {
		// A low-order point (all zeros, say) parses but cannot be sealed
		// to: refuse it here, in validation, not at a villager's booking.
		_, err = hpke.Seal(pub, kdf, aead, []byte(infoLabel), nil)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return &PublicKey{key: pub, id: KeyID(b)}, nil
}

// Seal seals plaintext as field path of record recordID. It fails only
// without randomness, which crypto/rand does not lack on Linux.
func (k *PublicKey) Seal(recordID, path, plaintext string) (schema.Sealed, error) {
	box, err := hpke.Seal(k.key, kdf, aead, info(recordID, path), []byte(plaintext))
	if err != nil {
		return schema.Sealed{}, fmt.Errorf("sealed: seal %s: %w", path, err)
	}
	return schema.Sealed{KeyID: k.id, Box: box}, nil
}

// PrivateKey is a township records key with its id.
type PrivateKey struct {
	key hpke.PrivateKey
	id  string
}

// ID is the key's id.
func (k *PrivateKey) ID() string { return k.id }

// Public is the key's public half.
func (k *PrivateKey) Public() *PublicKey {
	return &PublicKey{key: k.key.PublicKey(), id: k.id}
}

// GenerateKey makes a township records key from crypto/rand.
func GenerateKey() (*PrivateKey, error) {
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	return fromECDH(priv)
}

func fromECDH(priv *ecdh.PrivateKey) (*PrivateKey, error) {
	k, err := hpke.NewDHKEMPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return &PrivateKey{key: k, id: KeyID(priv.PublicKey().Bytes())}, nil
}

// pemType is PKCS #8's label, so `openssl pkey` reads a key file as it is.
const pemType = "PRIVATE KEY"

// EncodePrivateKey writes a private key file's contents: PKCS #8 in PEM, as
// the signing key's. The key is in clear: keep the file readable by its
// owner only (WritePrivateKeyFile).
func EncodePrivateKey(k *PrivateKey) ([]byte, error) {
	raw, err := k.key.Bytes()
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	priv, err := ecdh.X25519().NewPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der}), nil
}

// DecodePrivateKey reads what EncodePrivateKey writes (or `openssl genpkey
// -algorithm x25519` does), and nothing else.
func DecodePrivateKey(data []byte) (*PrivateKey, error) {
	block, rest := pem.Decode(data)
	switch {
	case block == nil:
		return nil, fmt.Errorf("%w: the file is not PEM", ErrKey)
	case block.Type != pemType || len(block.Headers) != 0:
		return nil, fmt.Errorf("%w: the file holds %q with %d headers, want plain %q", ErrKey, block.Type, len(block.Headers), pemType)
	case len(bytes.TrimSpace(rest)) != 0:
		return nil, fmt.Errorf("%w: the file has data after the key", ErrKey)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	priv, ok := key.(*ecdh.PrivateKey)
	if !ok || priv.Curve() != ecdh.X25519() {
		return nil, fmt.Errorf("%w: the file holds a %T (a signing key?)", ErrKey, key)
	}
	return fromECDH(priv)
}

// WritePrivateKeyFile creates path, mode 0600, holding k. It never replaces
// a file: overwriting the township's records key would leave every record
// sealed to it unreadable.
func WritePrivateKeyFile(path string, k *PrivateKey) (err error) {
	data, err := EncodePrivateKey(k)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("sealed: %w", err)
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("sealed: write %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// ReadPrivateKeyFile reads a key file and refuses one others can read:
// that key may already be someone else's, and with it every ID number.
func ReadPrivateKeyFile(path string) (*PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("sealed: %s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	k, err := DecodePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// Opener opens sealed values with the township's records keys: during a
// rotation, the new key and the old one.
// It is safe for concurrent use.
type Opener struct {
	keys map[string]*PrivateKey

	mu     sync.Mutex
	epochs map[string]*hpke.Recipient // by key id and encapsulated key
}

// NewOpener holds keys by their ids.
func NewOpener(keys ...*PrivateKey) *Opener {
	o := &Opener{keys: map[string]*PrivateKey{}, epochs: map[string]*hpke.Recipient{}}
	for _, k := range keys {
		o.keys[k.id] = k
	}
	return o
}

// Open returns the plaintext of field path of record recordID.
func (o *Opener) Open(recordID, path string, s schema.Sealed) (string, error) {
	if b, err := hex.DecodeString(s.KeyID); err != nil || len(b) != 8 || hex.EncodeToString(b) != s.KeyID {
		return "", fmt.Errorf("%w: %s: key_id %.40q is not 16 lower-case hex digits", ErrMalformed, path, s.KeyID)
	}
	k, ok := o.keys[s.KeyID]
	if !ok {
		return "", fmt.Errorf("%w: %s: key %s", ErrUnknownKey, path, s.KeyID)
	}
	if s.Enc != nil {
		return o.openEpoch(k, recordID, path, s)
	}
	if len(s.Box) < 32+16 {
		return "", fmt.Errorf("%w: %s: %d bytes", ErrMalformed, path, len(s.Box))
	}
	pt, err := hpke.Open(k.key, kdf, aead, info(recordID, path), s.Box)
	if err != nil {
		return "", fmt.Errorf("%w: %s: key %s", ErrOpen, path, s.KeyID)
	}
	return string(pt), nil
}

// OpenBody returns a record body with every sealed value in it replaced by
// its plaintext (a JSON string), the rest byte for byte as it was but
// compacted, keys in their order. A value that does not open stays sealed,
// and its error is returned with the others, naming the field but never
// any plaintext. body must be a JSON object.
func (o *Opener) OpenBody(recordID string, body []byte) ([]byte, []error) {
	var errs []error
	out, err := rewrite(body, "", func(path string, s schema.Sealed) ([]byte, bool) {
		pt, err := o.Open(recordID, path, s)
		if err != nil {
			errs = append(errs, err)
			return nil, false
		}
		b, _ := json.Marshal(pt)
		return b, true
	})
	if err != nil {
		return body, []error{fmt.Errorf("%w: body: %v", ErrMalformed, err)}
	}
	return out, errs
}

// Fields lists the paths of the sealed values in a record body, in order.
func Fields(body []byte) ([]string, error) {
	var paths []string
	_, err := rewrite(body, "", func(path string, _ schema.Sealed) ([]byte, bool) {
		paths = append(paths, path)
		return nil, false
	})
	return paths, err
}

// rewrite copies a JSON value, calling fn for every sealed value at its
// path (the body's keys joined by dots, array elements as [i]: the paths
// the kiosk seals with); when fn says so, its bytes replace the value.
func rewrite(raw []byte, path string, fn func(path string, s schema.Sealed) ([]byte, bool)) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("empty value")
	}
	switch raw[0] {
	case '{':
		keys, vals, err := members(raw)
		if err != nil {
			return nil, err
		}
		if s, ok := asSealed(keys, vals); ok {
			if b, ok := fn(path, s); ok {
				return b, nil
			}
		}
		var b bytes.Buffer
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			sub := k
			if path != "" {
				sub = path + "." + k
			}
			v, err := rewrite(vals[i], sub, fn)
			if err != nil {
				return nil, err
			}
			b.Write(v)
		}
		b.WriteByte('}')
		return b.Bytes(), nil
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, err
		}
		var b bytes.Buffer
		b.WriteByte('[')
		for i, e := range elems {
			if i > 0 {
				b.WriteByte(',')
			}
			v, err := rewrite(e, fmt.Sprintf("%s[%d]", path, i), fn)
			if err != nil {
				return nil, err
			}
			b.Write(v)
		}
		b.WriteByte(']')
		return b.Bytes(), nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// members splits a JSON object into its keys and values, in order.
func members(raw []byte) ([]string, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("object key %v", tok)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	return keys, vals, nil
}

// asSealed recognises a sealed value: an object of exactly key_id and
// sealed, and enc when it was sealed in an epoch (Sealer).
func asSealed(keys []string, vals []json.RawMessage) (schema.Sealed, bool) {
	if len(keys) != 2 && len(keys) != 3 {
		return schema.Sealed{}, false
	}
	var s schema.Sealed
	m := map[string]json.RawMessage{}
	for i, k := range keys {
		m[k] = vals[i]
	}
	if len(m) != len(keys) {
		return schema.Sealed{}, false
	}
	if _, ok := m["sealed"]; !ok {
		return schema.Sealed{}, false
	}
	obj, _ := json.Marshal(m)
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil || s.KeyID == "" {
		return schema.Sealed{}, false
	}
	return s, true
}

// OpenRecord is OpenBody for a whole record as published (the envelope of
// docs/mqtt.md): its body opened, the envelope kept, compacted.
func (o *Opener) OpenRecord(payload []byte) ([]byte, []error) {
	keys, vals, err := members(bytes.TrimSpace(payload))
	if err != nil {
		return payload, []error{fmt.Errorf("%w: record: %v", ErrMalformed, err)}
	}
	var id string
	for i, k := range keys {
		if k == "id" {
			json.Unmarshal(vals[i], &id)
		}
	}
	var errs []error
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		v := vals[i]
		if k == "body" {
			v, errs = o.OpenBody(id, v)
		}
		if err := json.Compact(&b, v); err != nil {
			return payload, []error{fmt.Errorf("%w: record: %v", ErrMalformed, err)}
		}
	}
	b.WriteByte('}')
	return b.Bytes(), errs
}
