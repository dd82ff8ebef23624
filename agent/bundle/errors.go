package bundle

import (
	"errors"
	"fmt"
)

// Reasons Verify refuses a bundle, in the order it checks them: the first
// that applies is the one returned. Every refusal is an *Error wrapping one
// of these, so callers compare with errors.Is and report Reason(err) as the
// `rejected` status's reason.
var (
	// ErrTooLarge means the envelope exceeds MaxEnvelopeSize. It is checked
	// before anything is parsed.
	ErrTooLarge = errors.New("bundle: too large")
	// ErrMalformed means the envelope is not a strict bundle/v1 envelope: not
	// JSON, an unknown, missing, repeated or null member, trailing data, or
	// base64 that does not decode or is not canonical. A payload that is
	// signed but not a valid bundle/v1 document (bad version, target, times,
	// content or rotation) is also ErrMalformed, found after the signature
	// check so an unsigned blob is never parsed.
	ErrMalformed = errors.New("bundle: malformed")
	// ErrUnknownKey means no key in the trust state has the envelope's
	// key_id: the bundle was signed by someone the kiosk does not trust.
	ErrUnknownKey = errors.New("bundle: signed by an unknown key")
	// ErrBadSignature means the signature does not verify with the key named
	// by key_id: the payload or the signature was altered, or another key
	// signed it under a trusted key's id.
	ErrBadSignature = errors.New("bundle: bad signature")
	// ErrUnsupported means the signed payload has a format or kind this
	// kiosk does not know: the township is ahead of this kiosk's software.
	// An update bundle given to a Verify without Options.ValidateUpdate is
	// refused with it too: that caller does not install software; and so is
	// a site patch without Options.ValidatePatch.
	ErrUnsupported = errors.New("bundle: unsupported format or kind")
	// ErrRetiredKey means the key is trusted, but not for this version: a
	// key rotation retired it from that version on (or, for a rotated-in
	// key, the version is below the one from which it takes effect).
	ErrRetiredKey = errors.New("bundle: signing key is not in force for this version")
	// ErrWrongTarget means the bundle is for another township, or names
	// kiosks of this township but not this one.
	ErrWrongTarget = errors.New("bundle: not addressed to this kiosk")
	// ErrNotYetValid means now, plus the skew allowance, is before
	// not_before. The kiosk's clock may be wrong, above all just after a
	// cold boot without network: a caller should keep the bundle and try
	// again once the clock is set rather than treat this as final.
	ErrNotYetValid = errors.New("bundle: not yet valid")
	// ErrExpired means now, less the skew allowance, is at or after expires.
	// As with ErrNotYetValid the kiosk's clock may be the one that is wrong.
	ErrExpired = errors.New("bundle: expired")
	// ErrReplay means the version equals the last one applied in its scope.
	// A retained topic delivers the applied bundle again at every reconnect,
	// so this is the normal answer to it, not an attack.
	ErrReplay = errors.New("bundle: version already applied")
	// ErrDowngrade means the version is lower than the last one applied in
	// its scope: an old bundle replayed, or a signer whose counter went back.
	ErrDowngrade = errors.New("bundle: version older than the one applied")
	// ErrSchema means Options.Validate (a site bundle), ValidatePatch (a
	// site patch), ValidateUpdate (an update bundle), ValidateRequestStatus
	// or ValidatePointsLedger refused the content. The validator's own
	// error is wrapped as well, for errors.As.
	ErrSchema = errors.New("bundle: content is not valid for its kind")
	// ErrOperatorScope means the bundle was signed by an operator key
	// (operator.go) whose certificate does not allow its kind: an
	// operator answers requests, it never configures a kiosk.
	ErrOperatorScope = errors.New("bundle: the operator key is not certified for this kind")
)

// Error is a refusal: which check failed, why, and for which bundle.
type Error struct {
	// Err is one of the sentinels above.
	Err error
	// Detail says what exactly was wrong, for the township's report.
	Detail string
	// Version is the bundle's version, known only once the signature has
	// checked out; 0 before that, so an unsigned claim is never reported.
	Version uint64
	// Cause is the underlying error (a JSON or base64 error, the validator's
	// error), if any.
	Cause error
}

func (e *Error) Error() string {
	msg := e.Err.Error()
	if e.Version != 0 {
		msg += fmt.Sprintf(" (version %d)", e.Version)
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

// Unwrap lets errors.Is find the sentinel and errors.As the cause.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

func reject(sentinel error, version uint64, cause error, format string, args ...any) *Error {
	return &Error{Err: sentinel, Detail: fmt.Sprintf(format, args...), Version: version, Cause: cause}
}

// Reason is a short, stable code for a refusal ("bad_signature", "expired",
// …) for the reported state that township tools put in a table: "" for nil,
// "error" for an error that is not a refusal (a misused API).
func Reason(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		// The sentinel itself, not errors.Is: a validator's error wrapped
		// as the cause must not change the reason.
		err = e.Err
	}
	for _, r := range []struct {
		err  error
		code string
	}{
		{ErrTooLarge, "too_large"},
		{ErrMalformed, "malformed"},
		{ErrUnknownKey, "unknown_key"},
		{ErrBadSignature, "bad_signature"},
		{ErrUnsupported, "unsupported"},
		{ErrRetiredKey, "retired_key"},
		{ErrWrongTarget, "wrong_target"},
		{ErrNotYetValid, "not_yet_valid"},
		{ErrExpired, "expired"},
		{ErrReplay, "replay"},
		{ErrDowngrade, "downgrade"},
		{ErrSchema, "schema"},
		{ErrOperatorScope, "operator_scope"},
	} {
		if errors.Is(err, r.err) {
			return r.code
		}
	}
	return "error"
}
