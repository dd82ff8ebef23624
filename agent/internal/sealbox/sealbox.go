// Package sealbox owns how the kiosk seals data at rest: AES-256-GCM with a
// fresh random nonce per value, under the one per-kiosk key. The outbox and
// the case book both use it, so there is one place to get the nonce handling
// and the key checks right.
package sealbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the length of a kiosk key: AES-256.
const KeySize = 32

// Errors returned by the box. Callers map them to their own sentinels.
var (
	// ErrKeySize means the key is not KeySize bytes.
	ErrKeySize = errors.New("sealbox: key has the wrong size")
	// ErrShort means a sealed value is too short to hold a nonce and a tag:
	// it was damaged, not sealed with another key.
	ErrShort = errors.New("sealbox: sealed value is too short")
	// ErrOpen means the value does not decrypt with this key and additional
	// data: another kiosk's key, or a value moved from elsewhere.
	ErrOpen = errors.New("sealbox: value does not decrypt with this key")
)

// Box seals and opens values with one key. It is safe for concurrent use.
type Box struct{ aead cipher.AEAD }

// New returns a box for a KeySize-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrKeySize, len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if aead.NonceSize() != NonceSize || aead.Overhead() != Overhead {
		return nil, fmt.Errorf("sealbox: GCM with a %d-byte nonce and a %d-byte tag", aead.NonceSize(), aead.Overhead())
	}
	return &Box{aead: aead}, nil
}

// Seal appends nonce | ciphertext of plaintext to dst. ad is authenticated
// but not stored: binding a value to its key in the store means a value
// copied under another key no longer opens.
func (b *Box) Seal(dst, plaintext, ad []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("sealbox: no randomness for a nonce: " + err.Error()) // crypto/rand does not fail on Linux
	}
	dst = append(dst, nonce...)
	return b.aead.Seal(dst, nonce, plaintext, ad)
}

// NonceSize and Overhead are what a sealed value adds to its plaintext:
// the nonce before the ciphertext, the tag after it.
const (
	NonceSize = 12
	Overhead  = 16
)

// SealInPlace is Seal(v[:at], v[at+NonceSize:], ad) without a second
// buffer: v holds what goes before the sealed value, NonceSize bytes of
// room for the nonce at at, then the plaintext, which is encrypted where
// it is; with Overhead bytes of spare capacity, v's array is the result's.
func (b *Box) SealInPlace(v []byte, at int, ad []byte) []byte {
	nonce := v[at : at+NonceSize]
	if _, err := rand.Read(nonce); err != nil {
		panic("sealbox: no randomness for a nonce: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return b.aead.Seal(v[:at+NonceSize], nonce, v[at+NonceSize:], ad)
}

// Open returns the plaintext of a value Seal made with the same ad.
func (b *Box) Open(sealed, ad []byte) ([]byte, error) { return b.OpenAppend(nil, sealed, ad) }

// OpenAppend is Open, appending the plaintext to dst (returned unchanged on
// an error): a reader of many values can decrypt them into one buffer.
func (b *Box) OpenAppend(dst, sealed, ad []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < ns+b.aead.Overhead() {
		return dst, ErrShort
	}
	out, err := b.aead.Open(dst, sealed[:ns], sealed[ns:], ad)
	if err != nil {
		return dst, ErrOpen
	}
	return out, nil
}
