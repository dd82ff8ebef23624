package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// GenerateKey makes a township signing key from crypto/rand.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

// FormatPublicKey is the text form of a public key written into site files
// and public key files: standard base64 of the 32 bytes, 44 characters.
func FormatPublicKey(pub ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads a public key in either text form a person may paste
// into a site file: 64 hex digits, or the 44-character standard base64 that
// FormatPublicKey writes. Surrounding white space (a public key file's
// newline) is ignored. The two forms cannot be confused: 64 base64
// characters would be 48 bytes.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	pub, err := parsePublicKey(s)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return pub, nil
}

func parsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	var b []byte
	var err error
	switch len(s) {
	case 2 * ed25519.PublicKeySize:
		b, err = hex.DecodeString(s)
	case base64.StdEncoding.EncodedLen(ed25519.PublicKeySize):
		b, err = decodeBase64(s)
	default:
		return nil, fmt.Errorf("public key is %d characters; want 64 hex digits or 44 base64 characters", len(s))
	}
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return ed25519.PublicKey(b), nil
}

// pemType is the PEM label of PKCS #8, so that `openssl pkey` and any
// language's crypto library read a township key file as it is.
const pemType = "PRIVATE KEY"

// EncodePrivateKey writes a private key file's contents: PKCS #8 in PEM.
// It holds the key in clear; keep it off the kiosks and readable by its owner
// only (WritePrivateKeyFile).
func EncodePrivateKey(priv ed25519.PrivateKey) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("bundle: private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der}), nil
}

// DecodePrivateKey reads what EncodePrivateKey writes (or `openssl genpkey
// -algorithm ed25519` does). Anything else in the file is refused: a second
// block or an encrypted PEM is not a file this tool wrote.
func DecodePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	block, rest := pem.Decode(data)
	switch {
	case block == nil:
		return nil, errors.New("bundle: private key file is not PEM")
	case block.Type != pemType:
		return nil, fmt.Errorf("bundle: private key file holds %q, want %q", block.Type, pemType)
	case len(block.Headers) != 0:
		return nil, errors.New("bundle: private key file has PEM headers (encrypted?); want plain PKCS #8")
	case len(bytes.TrimSpace(rest)) != 0:
		return nil, errors.New("bundle: private key file has data after the key")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("bundle: private key file: %w", err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("bundle: private key file holds a %T, want an Ed25519 key", key)
	}
	return priv, nil
}

// WritePrivateKeyFile creates path with mode 0600 holding priv. It never
// replaces an existing file: overwriting the township key by a slip of
// `kioskctl keys gen` would cut every kiosk off from township IT.
func WritePrivateKeyFile(path string, priv ed25519.PrivateKey) (err error) {
	data, err := EncodePrivateKey(priv)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
			err = fmt.Errorf("bundle: write %s: %w", path, err)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// ReadPrivateKeyFile reads a key file written by WritePrivateKeyFile and
// refuses one that others can read: that key may already be someone else's.
func ReadPrivateKeyFile(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("bundle: %s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return DecodePrivateKey(data)
}
