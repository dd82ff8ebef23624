package bundle

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// Sign makes the envelope of b signed by priv, for kioskctl to publish. It
// refuses a bundle that a kiosk would refuse as malformed; the content's
// schema is the caller's to check first (the same validator kioskd runs), and
// so is choosing a version above every version already signed (a
// township-wide counter, docs/bundles.md).
func Sign(b Bundle, priv ed25519.PrivateKey) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("bundle: private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	if err := b.check(); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	payload, err := b.marshalPayload()
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	env, err := signPayload(payload, priv)
	if err != nil {
		return nil, err
	}
	if len(env) > MaxEnvelopeSize {
		return nil, fmt.Errorf("bundle: the envelope would be %d bytes; kiosks take at most %d", len(env), MaxEnvelopeSize)
	}
	return env, nil
}

// signPayload wraps payload bytes, whatever they are, in a signed envelope.
func signPayload(payload []byte, priv ed25519.PrivateKey) ([]byte, error) {
	env := envelopeJSON{
		KeyID:     KeyID(priv.Public().(ed25519.PublicKey)),
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(priv, payload)),
		Payload:   base64.StdEncoding.EncodeToString(payload),
	}
	data, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return data, nil
}
