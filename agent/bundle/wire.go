package bundle

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// envelopeJSON is the unsigned wrapper. Its member order is the order Sign
// writes; readers must not depend on it.
type envelopeJSON struct {
	KeyID     string `json:"key_id"`
	Signature string `json:"signature"`
	Payload   string `json:"payload"`
	// Certificate is an operator's certificate (operator.go): the base64
	// of an operator-key envelope the township key signed. Absent on a
	// bundle the township key signs itself.
	Certificate string `json:"certificate,omitempty"`
}

func isEnvelopeName(name string) bool {
	switch name {
	case "key_id", "signature", "payload", "certificate":
		return true
	}
	return false
}

type payloadJSON struct {
	Format    string        `json:"format"`
	Kind      string        `json:"kind"`
	Version   uint64        `json:"version"`
	Target    targetJSON    `json:"target"`
	NotBefore time.Time     `json:"not_before"`
	Expires   time.Time     `json:"expires"`
	Content   string        `json:"content,omitempty"`
	Rotation  *rotationJSON `json:"rotation,omitempty"`
}

type targetJSON struct {
	Township string   `json:"township"`
	Kiosks   []string `json:"kiosks,omitempty"`
}

type rotationJSON struct {
	PublicKey        string `json:"public_key"`
	EffectiveVersion uint64 `json:"effective_version"`
}

// isPayloadName lists the member names of every object in a payload; the
// struct types then decide which belongs where.
func isPayloadName(name string) bool {
	switch name {
	case "format", "kind", "version", "target", "township", "kiosks",
		"not_before", "expires", "content", "rotation", "public_key", "effective_version":
		return true
	}
	return false
}

// openEnvelope decodes the envelope into its key id, signature, payload
// and certificate bytes (nil without one), without trusting any of them.
func openEnvelope(data []byte) (keyID string, sig, payload, cert []byte, err error) {
	if len(data) > MaxEnvelopeSize {
		return "", nil, nil, nil, reject(ErrTooLarge, 0, nil, "%d bytes, at most %d", len(data), MaxEnvelopeSize)
	}
	var env envelopeJSON
	if err := decodeStrict(data, &env, isEnvelopeName); err != nil {
		return "", nil, nil, nil, reject(ErrMalformed, 0, err, "envelope")
	}
	if env.Certificate != "" {
		cert, err = decodeBase64(env.Certificate)
		if err != nil {
			return "", nil, nil, nil, reject(ErrMalformed, 0, err, "certificate")
		}
	}
	if b, err := hex.DecodeString(env.KeyID); err != nil || len(b) != 8 || hex.EncodeToString(b) != env.KeyID {
		return "", nil, nil, nil, reject(ErrMalformed, 0, nil, "key_id %.40q is not 16 lower-case hex digits", env.KeyID)
	}
	switch {
	case env.Signature == "":
		return "", nil, nil, nil, reject(ErrMalformed, 0, nil, "signature is missing")
	case env.Payload == "":
		return "", nil, nil, nil, reject(ErrMalformed, 0, nil, "payload is missing")
	}
	sig, err = decodeBase64(env.Signature)
	if err != nil {
		return "", nil, nil, nil, reject(ErrMalformed, 0, err, "signature")
	}
	if len(sig) != ed25519.SignatureSize {
		return "", nil, nil, nil, reject(ErrMalformed, 0, nil, "signature is %d bytes, want %d", len(sig), ed25519.SignatureSize)
	}
	payload, err = decodeBase64(env.Payload)
	if err != nil {
		return "", nil, nil, nil, reject(ErrMalformed, 0, err, "payload")
	}
	return env.KeyID, sig, payload, cert, nil
}

// parsePayload decodes signed payload bytes. The format and kind are read
// first and leniently, so that a bundle from newer township software is
// refused as unsupported rather than as malformed.
func parsePayload(data []byte) (*Bundle, error) {
	var head struct {
		Format string `json:"format"`
		Kind   string `json:"kind"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, reject(ErrMalformed, 0, err, "payload")
	}
	switch {
	case head.Format == "":
		return nil, reject(ErrMalformed, 0, nil, "payload has no format (want %q)", Format)
	case head.Format != Format:
		return nil, reject(ErrUnsupported, 0, nil, "format %.40q (this kiosk reads %q)", head.Format, Format)
	case head.Kind == "":
		return nil, reject(ErrMalformed, 0, nil, "payload has no kind")
	case !knownKind(head.Kind):
		return nil, reject(ErrUnsupported, 0, nil, "kind %.40q (this kiosk reads %q, %q, %q, %q, %q, %q and %q)", head.Kind, KindSite, KindSitePatch, KindKeyRotation, KindUpdate, KindRequestStatus, KindPointsLedger, KindOperatorKey)
	}
	var p payloadJSON
	if err := decodeStrict(data, &p, isPayloadName); err != nil {
		return nil, reject(ErrMalformed, 0, err, "payload")
	}
	b := &Bundle{
		Kind:      p.Kind,
		Version:   p.Version,
		Target:    Target{Township: p.Target.Township, Kiosks: p.Target.Kiosks},
		NotBefore: p.NotBefore,
		Expires:   p.Expires,
	}
	if p.Content != "" {
		c, err := decodeBase64(p.Content)
		if err != nil {
			return nil, reject(ErrMalformed, 0, err, "content")
		}
		b.Content = c
	}
	if p.Rotation != nil {
		pub, err := decodeBase64(p.Rotation.PublicKey)
		if err != nil {
			return nil, reject(ErrMalformed, 0, err, "rotation.public_key")
		}
		b.Rotation = &Rotation{PublicKey: pub, EffectiveVersion: p.Rotation.EffectiveVersion}
	}
	if err := b.check(); err != nil {
		return nil, reject(ErrMalformed, 0, err, "payload")
	}
	return b, nil
}

// check holds the rules of a well-formed bundle, shared by Sign and Verify so
// that kioskctl cannot sign what a kiosk would refuse as malformed.
func (b *Bundle) check() error {
	switch {
	case !knownKind(b.Kind):
		return fmt.Errorf("kind %q is not %q, %q, %q, %q, %q, %q or %q", b.Kind, KindSite, KindSitePatch, KindKeyRotation, KindUpdate, KindRequestStatus, KindPointsLedger, KindOperatorKey)
	case b.Version == 0 || b.Version > MaxVersion:
		return fmt.Errorf("version %d is out of range [1, 2^53-1]", b.Version)
	case !validID(b.Target.Township):
		return fmt.Errorf("target.township %.70q is not a township id", b.Target.Township)
	case b.Target.Kiosks != nil && len(b.Target.Kiosks) == 0:
		return errors.New("target.kiosks is empty; leave it out to address the whole township")
	case b.NotBefore.IsZero():
		return errors.New("not_before is required")
	case b.Expires.IsZero():
		return errors.New("expires is required")
	case !b.Expires.After(b.NotBefore):
		return fmt.Errorf("expires %s is not after not_before %s", b.Expires.Format(time.RFC3339), b.NotBefore.Format(time.RFC3339))
	}
	for i, k := range b.Target.Kiosks {
		if !validID(k) {
			return fmt.Errorf("target.kiosks[%d] %.70q is not a kiosk id", i, k)
		}
		if slices.Contains(b.Target.Kiosks[:i], k) {
			return fmt.Errorf("target.kiosks[%d] %q is listed twice", i, k)
		}
	}
	if b.Kind == KindRequestStatus && len(b.Target.Kiosks) != 1 {
		// An answer is for the request of one kiosk: a township-wide
		// one would be a status for every kiosk's request of that number.
		return fmt.Errorf("a %s bundle names exactly one kiosk, the one that took the request (target.kiosks has %d)", b.Kind, len(b.Target.Kiosks))
	}
	if b.Kind == KindPointsLedger && len(b.Target.Kiosks) == 0 {
		// A ledger is one village's: addressed to the whole township it
		// would show that village's offers and rules in every other.
		return fmt.Errorf("a %s bundle names the kiosks of its village (target.kiosks is empty)", b.Kind)
	}
	if b.Kind != KindKeyRotation {
		switch {
		case len(b.Content) == 0:
			return fmt.Errorf("a %s bundle needs content", b.Kind)
		case b.Rotation != nil:
			return fmt.Errorf("a %s bundle cannot carry a rotation; sign a key-rotation bundle", b.Kind)
		}
		return nil
	}
	switch {
	case b.Rotation == nil:
		return errors.New("a key-rotation bundle needs a rotation")
	case len(b.Content) != 0:
		return errors.New("a key-rotation bundle carries no content")
	case len(b.Rotation.PublicKey) != ed25519.PublicKeySize:
		return fmt.Errorf("rotation.public_key is %d bytes, want %d", len(b.Rotation.PublicKey), ed25519.PublicKeySize)
	case b.Rotation.EffectiveVersion <= b.Version || b.Rotation.EffectiveVersion > MaxVersion:
		// The rotation itself is signed by a key in force at its version,
		// so the new key can only take over above it.
		return fmt.Errorf("rotation.effective_version %d must be above the bundle's version %d (and at most 2^53-1)", b.Rotation.EffectiveVersion, b.Version)
	}
	return nil
}

func knownKind(kind string) bool {
	switch kind {
	case KindSite, KindSitePatch, KindKeyRotation, KindUpdate, KindRequestStatus, KindPointsLedger, KindOperatorKey:
		return true
	}
	return false
}

// marshalPayload writes the payload Sign signs: compact JSON, members in
// the documented order, times in UTC.
func (b *Bundle) marshalPayload() ([]byte, error) {
	p := payloadJSON{
		Format:    Format,
		Kind:      b.Kind,
		Version:   b.Version,
		Target:    targetJSON{Township: b.Target.Township, Kiosks: b.Target.Kiosks},
		NotBefore: b.NotBefore.UTC(),
		Expires:   b.Expires.UTC(),
	}
	if len(b.Content) > 0 {
		p.Content = base64.StdEncoding.EncodeToString(b.Content)
	}
	if b.Rotation != nil {
		p.Rotation = &rotationJSON{
			PublicKey:        base64.StdEncoding.EncodeToString(b.Rotation.PublicKey),
			EffectiveVersion: b.Rotation.EffectiveVersion,
		}
	}
	return json.Marshal(p)
}
