package bundle

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
	"unicode/utf8"
)

// Operator keys. A clerk's console answers villagers' requests all day; it
// should not hold the township key, which can reconfigure every kiosk. The
// township key instead certifies an operator key: an operator-key bundle,
// signed by a township key in force, names the operator's public key, who
// holds it, and the kinds it may sign (request-status and points-ledger), for the
// kiosks of its target and the time of its window. The operator signs a
// bundle with its own key and attaches the certificate to the envelope
// (its "certificate" member: the base64 of the operator-key envelope), so
// a kiosk needs nothing new stored to check it: Verify checks the
// certificate as a bundle against the trust state, then the bundle's
// signature with the certified key, then that its kind is in the
// certificate's scopes. A certificate is revoked by letting it expire
// (keep windows short) or by rotating the township key that signed it.

// KindOperatorKey carries an operator certificate's content (Operator,
// operator-key/v1) in Content. It is never applied on its own: it travels
// only inside the envelope of a bundle the operator signed.
const KindOperatorKey = "operator-key"

// OperatorFormat is the format of an operator certificate's content.
const OperatorFormat = "operator-key/v1"

// OperatorScopes are the kinds an operator key may ever be certified for:
// answers to requests, and the village points ledgers the township's
// points clerk exports every week. Configuration, updates and rotations
// stay the township key's.
var OperatorScopes = []string{KindRequestStatus, KindPointsLedger}

// Operator is what a certificate says of an operator key.
type Operator struct {
	PublicKey ed25519.PublicKey
	// Name says who holds it (镇综治中心 王某), for the township's records.
	Name   string
	Scopes []string
}

type operatorJSON struct {
	Format    string   `json:"format"`
	PublicKey string   `json:"public_key"`
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
}

func (o Operator) check() error {
	switch {
	case len(o.PublicKey) != ed25519.PublicKeySize:
		return fmt.Errorf("public_key is %d bytes, want %d", len(o.PublicKey), ed25519.PublicKeySize)
	case o.Name == "" || !utf8.ValidString(o.Name) || utf8.RuneCountInString(o.Name) > 64:
		return errors.New("name must be 1 to 64 characters")
	case len(o.Scopes) == 0:
		return errors.New("scopes is empty")
	}
	for _, s := range o.Scopes {
		if !slices.Contains(OperatorScopes, s) {
			return fmt.Errorf("scope %q: an operator key may sign only %v", s, OperatorScopes)
		}
	}
	return nil
}

// Encode is an operator certificate's content.
func (o Operator) Encode() ([]byte, error) {
	if err := o.check(); err != nil {
		return nil, fmt.Errorf("bundle: operator: %w", err)
	}
	return json.Marshal(operatorJSON{Format: OperatorFormat, PublicKey: base64.StdEncoding.EncodeToString(o.PublicKey), Name: o.Name, Scopes: o.Scopes})
}

func parseOperator(content []byte) (Operator, error) {
	var p operatorJSON
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Operator{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Operator{}, errors.New("data after the JSON document")
	}
	if p.Format != OperatorFormat {
		return Operator{}, fmt.Errorf("format %.40q, want %q", p.Format, OperatorFormat)
	}
	pub, err := decodeBase64(p.PublicKey)
	if err != nil {
		return Operator{}, fmt.Errorf("public_key: %w", err)
	}
	o := Operator{PublicKey: pub, Name: p.Name, Scopes: p.Scopes}
	return o, o.check()
}

// SignAsOperator makes the envelope of b signed by an operator's key,
// with certificate (an operator-key envelope the township key signed for
// that key) attached. It refuses a certificate for another key, or one
// whose scopes do not include b's kind; whether kiosks trust the
// certificate's signer is theirs to check.
func SignAsOperator(b Bundle, priv ed25519.PrivateKey, certificate []byte) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("bundle: private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	_, _, certPayload, inner, err := openEnvelope(certificate)
	if err != nil {
		return nil, fmt.Errorf("bundle: certificate: %w", err)
	}
	cb, err := parsePayload(certPayload)
	if err == nil && (cb.Kind != KindOperatorKey || inner != nil) {
		err = errors.New("not an operator-key bundle")
	}
	var op Operator
	if err == nil {
		op, err = parseOperator(cb.Content)
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("bundle: certificate: %w", err)
	case !op.PublicKey.Equal(priv.Public()):
		return nil, fmt.Errorf("bundle: the certificate is for key %s, not this key (%s)", KeyID(op.PublicKey), KeyID(priv.Public().(ed25519.PublicKey)))
	case !slices.Contains(op.Scopes, b.Kind):
		return nil, fmt.Errorf("bundle: the certificate allows %v, not %s", op.Scopes, b.Kind)
	}
	if err := b.check(); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	payload, err := b.marshalPayload()
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	env := envelopeJSON{
		KeyID:       KeyID(priv.Public().(ed25519.PublicKey)),
		Signature:   base64.StdEncoding.EncodeToString(ed25519.Sign(priv, payload)),
		Payload:     base64.StdEncoding.EncodeToString(payload),
		Certificate: base64.StdEncoding.EncodeToString(certificate),
	}
	data, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if len(data) > MaxEnvelopeSize {
		return nil, fmt.Errorf("bundle: the envelope would be %d bytes; kiosks take at most %d", len(data), MaxEnvelopeSize)
	}
	return data, nil
}

// verifyCertificate checks an operator certificate as a bundle for kiosk
// id at now: a township key in force signed it, for this kiosk, within its
// window. It returns the certified operator. Its errors say "certificate".
func verifyCertificate(cert []byte, trust *TrustState, id Identity, now time.Time, skew time.Duration) (Operator, error) {
	inCert := func(err error) error {
		var e *Error
		if errors.As(err, &e) {
			c := *e
			c.Detail = "certificate: " + c.Detail
			c.Version = 0 // the certificate's version is not the bundle's
			return &c
		}
		return err
	}
	keyID, sig, payload, inner, err := openEnvelope(cert)
	if err != nil {
		return Operator{}, inCert(err)
	}
	if inner != nil {
		return Operator{}, reject(ErrMalformed, 0, nil, "certificate: a certificate cannot carry one")
	}
	keys := trust.keysWithID(keyID)
	if len(keys) == 0 {
		return Operator{}, reject(ErrUnknownKey, 0, nil, "certificate: key_id %s is not a township key this kiosk trusts", keyID)
	}
	if !ed25519.Verify(keys[0].PublicKey, payload, sig) {
		return Operator{}, reject(ErrBadSignature, 0, nil, "certificate: key_id %s", keyID)
	}
	b, err := parsePayload(payload)
	if err != nil {
		return Operator{}, inCert(err)
	}
	if b.Kind != KindOperatorKey {
		return Operator{}, reject(ErrMalformed, 0, nil, "certificate: a %s bundle, not %s", b.Kind, KindOperatorKey)
	}
	if err := trust.checkKey(keyID, b.Version); err != nil {
		return Operator{}, inCert(err)
	}
	switch {
	case !b.Target.Includes(id):
		return Operator{}, reject(ErrWrongTarget, 0, nil, "certificate: for %s; this kiosk is %s in %s", target(b.Target), id.Kiosk, id.Township)
	case now.Add(skew).Before(b.NotBefore):
		return Operator{}, reject(ErrNotYetValid, 0, nil, "certificate: valid from %s; the kiosk's clock says %s", b.NotBefore.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case !now.Add(-skew).Before(b.Expires):
		return Operator{}, reject(ErrExpired, 0, nil, "certificate: expired at %s; the kiosk's clock says %s", b.Expires.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	op, err := parseOperator(b.Content)
	if err != nil {
		return Operator{}, reject(ErrMalformed, 0, err, "certificate: content")
	}
	return op, nil
}

func target(t Target) string {
	if len(t.Kiosks) == 0 {
		return "township " + t.Township
	}
	return listKiosks(t.Kiosks) + " of " + t.Township
}
