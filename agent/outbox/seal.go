package outbox

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fengqiao/kiosk/agent/internal/sealbox"
)

// KeySize is the length of an outbox key: AES-256. The case book seals with
// the same key.
const KeySize = sealbox.KeySize

// LoadOrCreateKey reads the kiosk's outbox key from path, creating it (mode
// 0600, random) when it does not exist yet. A key file with the wrong size or
// loose permissions is refused rather than repaired: either means someone has
// been at it, and a technician should look.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("outbox: key: %w", err)
		}
		if err := writeFileSync(path, key, 0o600); err != nil {
			return nil, fmt.Errorf("outbox: create key %s: %w", path, err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: read key: %w", err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: %s holds %d bytes, want %d", ErrBadKey, path, len(key), KeySize)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is readable by others (mode %v); chmod 600 it", ErrBadKey, path, fi.Mode().Perm())
	}
	return key, nil
}

// writeFileSync writes data to path atomically and durably: a temporary file,
// fsync, rename, fsync of the directory. A crash leaves the old file or the new.
func writeFileSync(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// sealer encrypts stored records. The whole envelope is sealed, not just the
// personal fields: it is simpler to get right, and bbolt leaves deleted values
// in free pages, so anything stored in clear would outlive its record.
type sealer struct{ box *sealbox.Box }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrBadKey, len(key), KeySize)
	}
	box, err := sealbox.New(key)
	if err != nil {
		return nil, err
	}
	return &sealer{box: box}, nil
}

// Stored value layout, version 1. The header stays in clear because the
// publisher needs the type for the topic and status needs the commit time; it
// is authenticated (with the key) as additional data, so neither can be
// swapped between records.
//
//	[0]      format version (1)
//	[1]      class
//	[2:10]   commit time, Unix nanoseconds, big-endian
//	[10]     length n of the record type
//	[11:11+n] record type
//	then     nonce (12) | AES-GCM ciphertext of the envelope JSON
const formatV1 = 1

type header struct {
	class     Class
	committed time.Time
	typ       string
}

func (s *sealer) seal(key []byte, h header, payload []byte) []byte {
	hdr := appendHeader(make([]byte, 0, 11+len(h.typ)), h)
	return s.box.Seal(hdr, payload, append(append([]byte(nil), key...), hdr...))
}

func appendHeader(b []byte, h header) []byte {
	b = append(b, formatV1, byte(h.class))
	b = binary.BigEndian.AppendUint64(b, uint64(h.committed.UnixNano()))
	b = append(b, byte(len(h.typ)))
	return append(b, h.typ...)
}

// sealRecord is seal(key, h, withSeq(encoded, seq)) in one buffer, the
// stored value's own: the committer seals every record of a batch, so what
// it allocates and copies per record is on every booking's way. ad is
// scratch for the additional data, returned for the next record. False
// when encoded does not have the layout withSeq knows.
func (s *sealer) sealRecord(key []byte, h header, encoded []byte, seq uint64, ad []byte) (value, adOut []byte, ok bool) {
	n := 11 + len(h.typ)
	v := appendHeader(make([]byte, 0, n+sealbox.NonceSize+len(encoded)+20+sealbox.Overhead), h)
	v = append(v, make([]byte, sealbox.NonceSize)...)
	if v, ok = appendWithSeq(v, encoded, seq); !ok {
		return nil, ad, false
	}
	ad = append(append(ad[:0], key...), v[:n]...)
	return s.box.SealInPlace(v, n, ad), ad, true
}

func parseHeader(v []byte) (header, []byte, error) {
	return parseHeaderInterned(v, nil)
}

// parseHeaderInterned is parseHeader taking the record type's string from
// types when it is there (a map lookup by bytes does not allocate) and adding
// it when not; types may be nil.
func parseHeaderInterned(v []byte, types map[string]string) (header, []byte, error) {
	if len(v) < 11 || v[0] != formatV1 {
		return header{}, nil, fmt.Errorf("%w: unknown value format", ErrCorrupt)
	}
	n := int(v[10])
	if len(v) < 11+n {
		return header{}, nil, fmt.Errorf("%w: short value", ErrCorrupt)
	}
	typ, ok := types[string(v[11:11+n])]
	if !ok {
		typ = string(v[11 : 11+n])
		if types != nil {
			types[typ] = typ
		}
	}
	h := header{
		class:     Class(v[1]),
		committed: time.Unix(0, int64(binary.BigEndian.Uint64(v[2:10]))),
		typ:       typ,
	}
	return h, v[:11+n], nil
}

func (s *sealer) open(key, v []byte) (header, []byte, error) {
	var o opener
	return o.open(s, key, v)
}

// opener opens many values with the buffers of the last: the additional
// data, and an arena the plaintexts are appended to. Each plaintext it
// returns stays valid: a full arena is replaced by a larger one, and what
// was handed out keeps the old.
type opener struct {
	ad, arena []byte
	types     map[string]string // record types seen, if interning (may be nil)
}

func (o *opener) open(s *sealer, key, v []byte) (header, []byte, error) {
	h, hdr, err := parseHeaderInterned(v, o.types)
	if err != nil {
		return header{}, nil, err
	}
	o.ad = append(append(o.ad[:0], key...), hdr...)
	// AES-GCM appends into spare capacity or else copies dst into a buffer
	// of exactly the new length: appending record after record, that is a
	// copy per record, each kept alive by the plaintexts already handed out
	// (5,000 records of 1 KB took 24 GB). A full arena is replaced, not
	// copied; what was handed out keeps the old one.
	if need := len(v) - len(hdr); cap(o.arena)-len(o.arena) < need {
		o.arena = make([]byte, 0, max(2*cap(o.arena), need, 4096))
	}
	start := len(o.arena)
	o.arena, err = s.box.OpenAppend(o.arena, v[len(hdr):], o.ad)
	if errors.Is(err, sealbox.ErrShort) {
		return header{}, nil, fmt.Errorf("%w: short ciphertext", ErrCorrupt)
	}
	if err != nil {
		return header{}, nil, fmt.Errorf("%w: record does not decrypt with this kiosk's key", ErrBadKey)
	}
	return h, o.arena[start:len(o.arena):len(o.arena)], nil
}
