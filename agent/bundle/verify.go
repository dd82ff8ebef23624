package bundle

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Options are the kiosk's choices for Verify.
type Options struct {
	// Validate checks a site bundle's content the way a site file on disk is
	// checked (kioskd passes agent/config's validator). It is required: a
	// signed file that the kiosk cannot load must be refused here, before
	// anything is replaced. Key-rotation bundles have no content to check.
	Validate func(content []byte) error
	// ValidatePatch checks a site-patch bundle's content, the patch merged
	// over the kiosk's site file, the way Validate checks a site bundle's
	// (kioskd passes agent/config's). Nil means this caller takes no
	// patches: they are refused as ErrUnsupported, after the signature,
	// target, time and version checks.
	ValidatePatch func(content []byte) error
	// ValidateUpdate checks an update bundle's manifest (agent/update's
	// Parse). Nil means this caller takes no update bundles: they are
	// refused as ErrUnsupported, after the signature, target, time and
	// version checks.
	ValidateUpdate func(content []byte) error
	// ValidateRequestStatus checks a request-status bundle's content (the
	// township's answer, agent/request's ParseChange). Nil means this
	// caller takes no answers: they are refused as ErrUnsupported, after
	// the signature, target and time checks. Only the caller can order
	// an answer (by the version stored with its request), so Verify
	// makes no version check for this kind.
	ValidateRequestStatus func(content []byte) error
	// ValidatePointsLedger checks a points-ledger bundle's content
	// (agent/points' Decode). Nil means this caller takes no ledgers:
	// they are refused as ErrUnsupported, after the signature, target and
	// time checks. As for request statuses, the caller orders ledgers (by
	// the version of the one in force), so Verify makes no version check.
	ValidatePointsLedger func(content []byte) error
	// Skew widens the bundle's time window on both sides to allow for a
	// kiosk clock that is slightly off; zero or less means DefaultSkew.
	Skew time.Duration
}

// Verified is a bundle that passed every check, with what Record needs.
type Verified struct {
	Bundle
	// KeyID names the key that signed it.
	KeyID string
	// Operator is who holds the operator key that signed it, as its
	// certificate says; empty for a bundle the township key signed.
	Operator string
	// Scope is the version counter it advances on this kiosk: Target.Scope,
	// under RotationScope or UpdateScope for those kinds.
	Scope string
}

// Verify checks envelope, a message from the township, for the kiosk id at
// time now, and returns the bundle it carries. The checks run in this order,
// and the first that fails is returned as an *Error wrapping its sentinel:
//
//  1. size (ErrTooLarge), then the envelope's strict form and base64
//     (ErrMalformed), then whether key_id names a trusted key (ErrUnknownKey);
//  2. the Ed25519 signature over the payload bytes (ErrBadSignature);
//  3. only then the payload: format and kind known (ErrUnsupported), strictly
//     well formed (ErrMalformed), and the key in force for its version
//     (ErrRetiredKey);
//  4. the target: this kiosk's township, and this kiosk if kiosks are listed
//     (ErrWrongTarget);
//  5. the time window, widened by the skew allowance (ErrNotYetValid,
//     ErrExpired);
//  6. the version above the last applied in its scope (ErrReplay,
//     ErrDowngrade), except for a request-status bundle, which the
//     caller orders by the version stored with its request, and a points
//     ledger, which the caller orders by the ledger in force;
//  7. for a site bundle, opts.Validate on the content (ErrSchema); for a
//     site patch, opts.ValidatePatch, and for an update bundle,
//     opts.ValidateUpdate, and for a request status,
//     opts.ValidateRequestStatus, and for a points ledger,
//     opts.ValidatePointsLedger (ErrUnsupported without one, ErrSchema
//     when it refuses).
//
// Verify changes nothing: trust is read only. Once kioskd has applied the
// bundle it calls trust.Record and persists the result.
//
// now is the kiosk's clock, which may be wrong (no RTC battery, no network
// since boot). A wrong clock shows up as ErrNotYetValid or ErrExpired; the
// version check, not the clock, is what refuses replays.
func Verify(envelope []byte, trust *TrustState, id Identity, now time.Time, opts Options) (*Verified, error) {
	if trust == nil {
		return nil, errors.New("bundle: Verify without a trust state")
	}
	if !validID(id.Kiosk) || !validID(id.Township) {
		return nil, errors.New("bundle: Verify needs this kiosk's id and township")
	}
	if opts.Validate == nil {
		return nil, errors.New("bundle: Verify without Options.Validate")
	}
	skew := opts.Skew
	if skew <= 0 {
		skew = DefaultSkew
	}

	keyID, sig, payload, cert, err := openEnvelope(envelope)
	if err != nil {
		return nil, err
	}
	var operator *Operator
	if cert != nil {
		// Signed by an operator key: the certificate first, as a bundle
		// of the township key (operator.go), then the signature with the
		// key it certifies.
		op, err := verifyCertificate(cert, trust, id, now, skew)
		if err != nil {
			return nil, err
		}
		if KeyID(op.PublicKey) != keyID {
			return nil, reject(ErrBadSignature, 0, nil, "key_id %s is not the certified operator key %s", keyID, KeyID(op.PublicKey))
		}
		if !ed25519.Verify(op.PublicKey, payload, sig) {
			return nil, reject(ErrBadSignature, 0, nil, "operator key_id %s", keyID)
		}
		operator = &op
	} else {
		keys := trust.keysWithID(keyID)
		if len(keys) == 0 {
			return nil, reject(ErrUnknownKey, 0, nil, "key_id %s is not a township key this kiosk trusts", keyID)
		}
		// Every key with that id is the same key (the id is its hash).
		if !ed25519.Verify(keys[0].PublicKey, payload, sig) {
			return nil, reject(ErrBadSignature, 0, nil, "key_id %s", keyID)
		}
	}

	b, err := parsePayload(payload)
	if err != nil {
		return nil, err
	}
	v := b.Version
	switch {
	case b.Kind == KindOperatorKey:
		return nil, reject(ErrUnsupported, v, nil, "an operator certificate is not applied on its own; it travels in the envelope of what the operator signs")
	case operator != nil && !slices.Contains(operator.Scopes, b.Kind):
		return nil, reject(ErrOperatorScope, v, nil, "operator %s (key %s) may sign %v, not %s", operator.Name, keyID, operator.Scopes, b.Kind)
	case operator == nil:
		if err := trust.checkKey(keyID, v); err != nil {
			return nil, err
		}
	}
	if !b.Target.Includes(id) {
		if b.Target.Township != id.Township {
			return nil, reject(ErrWrongTarget, v, nil, "for township %s; this kiosk is %s in %s", b.Target.Township, id.Kiosk, id.Township)
		}
		return nil, reject(ErrWrongTarget, v, nil, "for %s of %s; this kiosk is %s", listKiosks(b.Target.Kiosks), b.Target.Township, id.Kiosk)
	}
	switch {
	case now.Add(skew).Before(b.NotBefore):
		return nil, reject(ErrNotYetValid, v, nil, "valid from %s; the kiosk's clock says %s", b.NotBefore.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case !now.Add(-skew).Before(b.Expires):
		return nil, reject(ErrExpired, v, nil, "expired at %s; the kiosk's clock says %s", b.Expires.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	scope := b.Target.Scope(id)
	switch b.Kind {
	case KindKeyRotation:
		scope = RotationScope(scope)
	case KindUpdate:
		scope = UpdateScope(scope)
	case KindRequestStatus:
		scope = RequestScope(id)
	case KindPointsLedger:
		scope = PointsScope(id)
	}
	if b.Kind != KindRequestStatus && b.Kind != KindPointsLedger {
		if err := trust.checkVersion(scope, v); err != nil {
			return nil, err
		}
	}
	switch b.Kind {
	case KindSite:
		if err := opts.Validate(b.Content); err != nil {
			return nil, reject(ErrSchema, v, err, "")
		}
	case KindSitePatch:
		if opts.ValidatePatch == nil {
			return nil, reject(ErrUnsupported, v, nil, "a site patch, and this verifier applies none")
		}
		if err := opts.ValidatePatch(b.Content); err != nil {
			return nil, reject(ErrSchema, v, err, "")
		}
	case KindUpdate:
		if opts.ValidateUpdate == nil {
			return nil, reject(ErrUnsupported, v, nil, "an update bundle, and this verifier installs no software (the updater does)")
		}
		if err := opts.ValidateUpdate(b.Content); err != nil {
			return nil, reject(ErrSchema, v, err, "")
		}
	case KindRequestStatus:
		if opts.ValidateRequestStatus == nil {
			return nil, reject(ErrUnsupported, v, nil, "a request status, and this verifier takes no answers to requests")
		}
		if err := opts.ValidateRequestStatus(b.Content); err != nil {
			return nil, reject(ErrSchema, v, err, "")
		}
	case KindPointsLedger:
		if opts.ValidatePointsLedger == nil {
			return nil, reject(ErrUnsupported, v, nil, "a points ledger, and this verifier takes none")
		}
		if err := opts.ValidatePointsLedger(b.Content); err != nil {
			return nil, reject(ErrSchema, v, err, "")
		}
	}
	out := &Verified{Bundle: *b, KeyID: keyID, Scope: scope}
	if operator != nil {
		out.Operator = operator.Name
	}
	return out, nil
}

// listKiosks names a target's kiosks in a refusal, a few at most: the
// reason travels back to the township in a small MQTT message.
func listKiosks(kiosks []string) string {
	const few = 4
	if len(kiosks) <= few {
		return "kiosks " + strings.Join(kiosks, ", ")
	}
	return fmt.Sprintf("kiosks %s … (%d in all)", strings.Join(kiosks[:few], ", "), len(kiosks))
}
