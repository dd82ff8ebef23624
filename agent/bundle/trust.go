package bundle

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// TrustFormat marks a persisted trust state.
const TrustFormat = "bundle-trust/v1"

// TrustState is what a kiosk must remember between bundles: which township
// keys it trusts for which versions, and the last version it applied in each
// scope. It is small and kept in its own file, written with WriteFileAtomic
// before the bundle that changed it takes effect.
//
// The trust state, not the site file, is authoritative once it exists: the
// site file's township key only seeds it (NewTrustState). A site file is
// itself replaced by bundles, and a rotation must not be undone by the next
// site file still naming the old key. Deleting the file re-seeds it from the
// site file and forgets the applied versions, which lets older bundles that
// have not expired apply again: a technician's step, not kioskd's.
//
// A TrustState is not changed in place: Record returns the next one, so the
// caller can persist it first and swap it in only once it is on disk.
type TrustState struct {
	// Keys are every key ever trusted, each with the versions it may sign.
	Keys []TrustedKey
	// Applied maps a scope (Target.Scope) to the last version applied in it.
	Applied map[string]uint64
}

// TrustedKey is a township public key and the versions it may sign: From ≤
// version, and version < Until unless Until is 0 (no rotation has retired it
// yet).
type TrustedKey struct {
	PublicKey   ed25519.PublicKey
	From, Until uint64
}

func (k TrustedKey) inForce(version uint64) bool {
	return k.From <= version && (k.Until == 0 || version < k.Until)
}

// NewTrustState seeds a kiosk's trust state from the township public keys of
// its site file (text forms as ParsePublicKey reads them), trusted for every
// version until a rotation says otherwise. More than one key lets township IT
// keep a spare key offline that can sign a rotation if the working key is
// lost.
func NewTrustState(publicKeys ...string) (*TrustState, error) {
	if len(publicKeys) == 0 {
		return nil, errors.New("bundle: no township public key to trust")
	}
	s := &TrustState{Applied: map[string]uint64{}}
	for i, text := range publicKeys {
		pub, err := parsePublicKey(text)
		if err != nil {
			return nil, fmt.Errorf("bundle: township key %d: %w", i+1, err)
		}
		if !slices.ContainsFunc(s.Keys, func(k TrustedKey) bool { return k.PublicKey.Equal(pub) }) {
			s.Keys = append(s.Keys, TrustedKey{PublicKey: pub})
		}
	}
	return s, nil
}

// keysWithID returns the keys whose KeyID is id; more than one only when a
// rotation brought back a key retired before, with another range.
func (s *TrustState) keysWithID(id string) []TrustedKey {
	var out []TrustedKey
	for _, k := range s.Keys {
		if KeyID(k.PublicKey) == id {
			out = append(out, k)
		}
	}
	return out
}

// checkKey says whether key id may sign version.
func (s *TrustState) checkKey(id string, version uint64) error {
	keys := s.keysWithID(id)
	if len(keys) == 0 {
		return reject(ErrUnknownKey, 0, nil, "key_id %s", id)
	}
	if !slices.ContainsFunc(keys, func(k TrustedKey) bool { return k.inForce(version) }) {
		return reject(ErrRetiredKey, version, nil, "key %s signs versions %s", id, describeRanges(keys))
	}
	return nil
}

func describeRanges(keys []TrustedKey) string {
	var parts []string
	for _, k := range keys {
		if k.Until == 0 {
			parts = append(parts, fmt.Sprintf("from %d on", k.From))
		} else {
			parts = append(parts, fmt.Sprintf("%d to %d", k.From, k.Until-1))
		}
	}
	return strings.Join(parts, " and ")
}

// checkVersion refuses a version that is not above the last applied in scope.
func (s *TrustState) checkVersion(scope string, version uint64) error {
	last := s.Applied[scope]
	switch {
	case version == last:
		return reject(ErrReplay, version, nil, "%s is at version %d", scope, last)
	case version < last:
		return reject(ErrDowngrade, version, nil, "%s is at version %d", scope, last)
	}
	return nil
}

// Record returns the trust state after v has been applied: its version is
// the last of its scope and, for a key rotation, the new key replaces the
// keys in force from the rotation's effective version on. The receiver is
// left as it was.
//
// Record v once kioskd has tried it, whether it stayed applied or was rolled
// back after a failed health check: a bad bundle retained on the broker is
// then refused as a replay at the next reconnect instead of being applied and
// rolled back again and again. Township IT fixes it with a higher version.
//
// The key and version checks are made again, so a v verified against an
// older state (a rotation recorded in between) cannot slip through.
func (s *TrustState) Record(v *Verified) (*TrustState, error) {
	if v == nil {
		return nil, errors.New("bundle: Record of a nil bundle")
	}
	if v.Kind == KindRequestStatus {
		// Ordered per request by the caller, never in the trust state.
		return nil, errors.New("bundle: a request-status bundle is not recorded in the trust state")
	}
	if err := s.checkKey(v.KeyID, v.Version); err != nil {
		return nil, err
	}
	if err := s.checkVersion(v.Scope, v.Version); err != nil {
		return nil, err
	}
	next := &TrustState{Keys: slices.Clone(s.Keys), Applied: maps.Clone(s.Applied)}
	if next.Applied == nil {
		next.Applied = map[string]uint64{}
	}
	next.Applied[v.Scope] = v.Version
	if v.Kind == KindKeyRotation && v.Rotation != nil {
		n := v.Rotation.EffectiveVersion
		keys := next.Keys[:0:0]
		for _, k := range next.Keys {
			if k.Until == 0 || k.Until > n {
				k.Until = n
			}
			if k.From < k.Until { // a key that can still sign something
				keys = append(keys, k)
			}
		}
		next.Keys = append(keys, TrustedKey{PublicKey: slices.Clone(v.Rotation.PublicKey), From: n})
	}
	return next, nil
}

type trustJSON struct {
	Format  string            `json:"format"`
	Keys    []trustedKeyJSON  `json:"keys"`
	Applied map[string]uint64 `json:"applied"`
}

type trustedKeyJSON struct {
	ID        string `json:"id"`
	PublicKey string `json:"public_key"`
	From      uint64 `json:"from_version"`
	Until     uint64 `json:"until_version,omitempty"`
}

// Marshal is the trust state's file contents: indented JSON, so a technician
// can read which key a kiosk trusts and what it has applied.
func (s *TrustState) Marshal() ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	t := trustJSON{Format: TrustFormat, Applied: s.Applied}
	if t.Applied == nil {
		t.Applied = map[string]uint64{}
	}
	for _, k := range s.Keys {
		t.Keys = append(t.Keys, trustedKeyJSON{ID: KeyID(k.PublicKey), PublicKey: FormatPublicKey(k.PublicKey), From: k.From, Until: k.Until})
	}
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("bundle: trust state: %w", err)
	}
	return append(data, '\n'), nil
}

// UnmarshalTrustState reads what Marshal writes, as strictly as a bundle. A
// damaged trust file must stop kioskd from applying anything, not make it
// trust less carefully.
func UnmarshalTrustState(data []byte) (*TrustState, error) {
	var t trustJSON
	if err := decodeStrict(data, &t, nil); err != nil {
		return nil, fmt.Errorf("bundle: trust state: %w", err)
	}
	if t.Format != TrustFormat {
		return nil, fmt.Errorf("bundle: trust state: format %q, want %q", t.Format, TrustFormat)
	}
	s := &TrustState{Applied: t.Applied}
	if s.Applied == nil {
		s.Applied = map[string]uint64{}
	}
	for i, k := range t.Keys {
		pub, err := decodeBase64(k.PublicKey)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("bundle: trust state: keys[%d]: public_key is not 32 bytes of base64", i)
		}
		if id := KeyID(pub); k.ID != id {
			return nil, fmt.Errorf("bundle: trust state: keys[%d]: id %q does not match its public key (%s)", i, k.ID, id)
		}
		s.Keys = append(s.Keys, TrustedKey{PublicKey: pub, From: k.From, Until: k.Until})
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *TrustState) check() error {
	if len(s.Keys) == 0 {
		return errors.New("bundle: trust state has no keys")
	}
	for i, k := range s.Keys {
		switch {
		case len(k.PublicKey) != ed25519.PublicKeySize:
			return fmt.Errorf("bundle: trust state: keys[%d] is %d bytes, want %d", i, len(k.PublicKey), ed25519.PublicKeySize)
		case k.From > MaxVersion || k.Until > MaxVersion:
			return fmt.Errorf("bundle: trust state: keys[%d]: versions out of range", i)
		case k.Until != 0 && k.Until <= k.From:
			return fmt.Errorf("bundle: trust state: keys[%d]: until_version %d is not above from_version %d", i, k.Until, k.From)
		}
	}
	for scope, v := range s.Applied {
		inner, ok := strings.CutPrefix(scope, "key:")
		if !ok {
			inner = strings.TrimPrefix(scope, "update:")
		}
		kind, id, _ := strings.Cut(inner, ":")
		if (kind != "township" && kind != "kiosk") || !validID(id) {
			return fmt.Errorf("bundle: trust state: %q is not a scope (township:<id> or kiosk:<id>, or either after key: or update:)", scope)
		}
		if v == 0 || v > MaxVersion {
			return fmt.Errorf("bundle: trust state: %s: version %d out of range", scope, v)
		}
	}
	return nil
}
