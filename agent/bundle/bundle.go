// Package bundle owns signed configuration and content bundles: the only way
// township IT changes a kiosk it cannot visit. It defines the wire format
// (bundle/v1, docs/bundles.md), verifies a bundle received from the network
// against the kiosk's trust state, keeps that trust state (trusted township
// keys and the last applied version per scope) in a form the caller persists,
// and signs bundles for the township's kioskctl.
//
// The package is pure logic: it neither subscribes to MQTT nor writes the site
// file. kioskd hands it the bytes of a message and its clock; it answers with
// the verified bundle or a typed error naming why the bundle was refused.
//
// # Format (bundle/v1)
//
// A bundle travels as an envelope, one JSON object with exactly three members
// (and a fourth, "certificate", on what an operator key signs: operator.go):
//
//	{"key_id": "<16 hex>", "signature": "<base64>", "payload": "<base64>"}
//
// payload is the standard base64 (RFC 4648 §4, with padding) of the payload
// bytes, and signature the standard base64 of the 64-byte Ed25519 signature
// (RFC 8032, pure Ed25519) of exactly those bytes. The canonical bytes are
// therefore whatever bytes the signer chose to sign: a verifier checks the
// signature over the decoded bytes before it parses them, and never
// re-serialises anything, so no JSON canonicalisation is involved and a
// signer in any language only has to produce some valid payload JSON.
//
// key_id is the lower-case hex of the first 8 bytes of the SHA-256 of the
// 32-byte public key. It only picks the key to try; the signature decides.
//
// The payload is one JSON object (UTF-8):
//
//	{
//	  "format": "bundle/v1",
//	  "kind": "site",                  // or "site-patch", "key-rotation", "update", "request-status", "points-ledger"
//	  "version": 42,                   // 1 … 2^53-1, see Verify
//	  "target": {"township": "t1"},    // or {"township": "t1", "kiosks": ["k1", "k2"]}
//	  "not_before": "2026-11-25T00:00:00Z",
//	  "expires": "2026-12-25T00:00:00Z",
//	  "content": "<base64 of the site file>",            // every kind but "key-rotation"
//	  "rotation": {"public_key": "<base64 of 32 bytes>", // kind "key-rotation" only
//	               "effective_version": 43}
//	}
//
// Both documents are decoded strictly: unknown or misspelt members, a member
// given twice, null, trailing data and base64 that is not in canonical form
// are all refused, so what a township tool shows is what the kiosk applies.
package bundle

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"
)

// Format is the payload's format marker. A change a v1 kiosk would misread
// gets a new one; a v1 kiosk refuses any other with ErrUnsupported.
const Format = "bundle/v1"

// Kinds of bundle. The kind says what content means, so that a rotation can
// never be mistaken for a site file or the other way round.
const (
	// KindSite carries a complete site file (fengqiao.site/v1, YAML, see
	// docs/config.md) in Content, checked by the caller's Options.Validate.
	KindSite = "site"
	// KindSitePatch carries a township patch (fengqiao.site-patch/v1, YAML,
	// docs/bundles.md) in Content: an RFC 7396 merge patch over the kiosk's
	// site file, checked by the caller's Options.ValidatePatch. It counts
	// in the same scope as KindSite and is put in force the same way. It is
	// a kind of its own, not a site bundle with other content, so that a
	// kiosk from before patches refuses it as unsupported (and applies it
	// once updated) instead of reading a patch as whole sections.
	KindSitePatch = "site-patch"
	// KindKeyRotation carries no content, only a Rotation: the new township
	// key and the version from which it replaces the keys in force.
	KindKeyRotation = "key-rotation"
	// KindUpdate carries a software update manifest (fengqiao.update/v1,
	// JSON, see docs/updates.md) in Content, checked by the caller's
	// Options.ValidateUpdate: which Debian packages to install, where to
	// fetch them and their SHA-256. The packages themselves are too large for
	// MQTT; their hashes, signed here, are what makes them trusted.
	KindUpdate = "update"
	// KindRequestStatus carries the township's answer to one villager's
	// request (request-status/v1, JSON, docs/requests.md) in Content,
	// checked by the caller's Options.ValidateRequestStatus. It names
	// exactly one kiosk, the one that took the request. Its version is
	// the township-wide signing counter, as every bundle's, so the key
	// rotation rules apply unchanged; but it is ordered per request, not
	// per scope: Verify does not compare it with the trust state's
	// applied versions (a kiosk answers hundreds of requests), the caller
	// compares it with the version stored with the request.
	KindRequestStatus = "request-status"
	// KindPointsLedger carries a village's 美德银行 points ledger
	// (fengqiao.points-ledger/v1, gzipped JSON, docs/points.md) in
	// Content, checked by the caller's Options.ValidatePointsLedger. It
	// names the kiosks of one village: a township-wide ledger would show
	// one village's offers in every other. Like a request status, it is
	// ordered by the caller (the version of the ledger in force, kept with
	// it), not in the trust state.
	KindPointsLedger = "points-ledger"
)

// Limits on what the kiosk accepts from the network.
const (
	// MaxEnvelopeSize bounds the envelope before anything is parsed. With the
	// two base64 layers it leaves about 570 KiB for a site file, far more than
	// one needs; keep bundles below the broker's max_packet_size as well.
	MaxEnvelopeSize = 1 << 20
	// MaxVersion is the largest version: 2^53-1, the largest integer every
	// JSON implementation (JavaScript's included) reads back exactly, so a
	// signer in any language writes the version the kiosk compares.
	MaxVersion = 1<<53 - 1
	// DefaultSkew is the clock-skew allowance used when Options.Skew is zero.
	// It covers a kiosk clock that NTP has not corrected yet by a few minutes;
	// a clock that is hours or years off after a cold boot without network is
	// not covered (see ErrNotYetValid).
	DefaultSkew = 10 * time.Minute
)

// Bundle is the signed document: what township IT decided, for whom, and
// when it holds.
type Bundle struct {
	// Kind is KindSite, KindSitePatch, KindKeyRotation or KindUpdate.
	Kind string
	// Version orders the bundles of one scope (see Target.Scope); a kiosk
	// applies only a version greater than the last it applied there.
	Version uint64
	Target  Target
	// NotBefore and Expires bound when the bundle may be applied. They are
	// encoded in UTC.
	NotBefore, Expires time.Time
	// Content is the site bundle for KindSite, the patch for
	// KindSitePatch and the update manifest for KindUpdate, opaque to this
	// package.
	Content []byte
	// Rotation is set for KindKeyRotation only.
	Rotation *Rotation
}

// Target names the kiosks a bundle is for: the whole township when Kiosks is
// empty, else the listed kiosks of that township. Kiosk ids are unique only
// within a township (they are topic levels under it), so the township is
// always named.
type Target struct {
	Township string
	Kiosks   []string
}

// Rotation replaces the township key. From EffectiveVersion on, only
// PublicKey is trusted; below it the keys in force before stay in force, so
// bundles already signed and retained on the broker with the old key still
// apply, in whatever order a reconnecting kiosk receives them.
type Rotation struct {
	PublicKey        ed25519.PublicKey
	EffectiveVersion uint64
}

// Identity is who the verifying kiosk is: its site file's kiosk.id and
// kiosk.township.
type Identity struct {
	Kiosk    string
	Township string
}

// Includes reports whether the target addresses the kiosk id.
func (t Target) Includes(id Identity) bool {
	if t.Township != id.Township {
		return false
	}
	return len(t.Kiosks) == 0 || slices.Contains(t.Kiosks, id.Kiosk)
}

// Scope is the version counter a bundle for t advances on kiosk id:
// "township:<id>" for a whole township, "kiosk:<id>" for a bundle naming
// kiosks. Versions of the two scopes are compared separately, so a township
// bundle and a kiosk bundle never refuse each other; a township-wide signing
// counter (docs/bundles.md) keeps both increasing anyway.
func (t Target) Scope(id Identity) string {
	if len(t.Kiosks) == 0 {
		return "township:" + t.Township
	}
	return "kiosk:" + id.Kiosk
}

// RotationScope is the version counter of key rotations addressed to scope.
// Rotations count apart from site bundles: a rotation at version v (taking
// effect at v+1) must not make the site bundle v-1, still retained on the
// broker and delivered after it to a kiosk that was offline, a downgrade.
func RotationScope(scope string) string { return "key:" + scope }

// UpdateScope is the version counter of software updates addressed to
// scope. Updates count apart from site bundles for the same reason as
// rotations: they travel on topics of their own, so a kiosk back online may
// receive update v12 before site bundle v11, and v11 must still apply.
func UpdateScope(scope string) string { return "update:" + scope }

// RequestScope names where a request-status bundle counts on kiosk id, in
// Verified.Scope: "requests:kiosk:<id>". It is never recorded in the trust
// state; each request's stored status keeps its own last version.
func RequestScope(id Identity) string { return "requests:kiosk:" + id.Kiosk }

// PointsScope names where a points-ledger bundle counts on kiosk id, in
// Verified.Scope: "points:kiosk:<id>". Like RequestScope it is never
// recorded in the trust state: the ledger kept on the kiosk keeps its
// version (agent/points).
func PointsScope(id Identity) string { return "points:kiosk:" + id.Kiosk }

// KeyID names a public key in envelopes and trust state: the lower-case hex
// of the first 8 bytes of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}
