package bundle

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxDepth bounds nesting. bundle/v1 documents are three levels deep; the
// bound keeps a hostile document from costing more than its size.
const maxDepth = 8

// decodeStrict decodes one JSON document into v and refuses what
// encoding/json lets through: a member given twice (other parsers keep the
// first, Go keeps the last, and a township tool must show what the kiosk
// applies), a member whose name matches a field only case-insensitively, a
// null, and trailing data. names reports the member names the schema has;
// nil allows any (maps keyed by data).
//
// The plain decode runs first: it is fast and refuses most bad input (a
// value of the wrong type) before the slower token walk.
func decodeStrict(data []byte, v any, names func(string) bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	dec = json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walk(dec, 0, names); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON document")
	}
	return nil
}

func walk(dec *json.Decoder, depth int, names func(string) bool) error {
	if depth > maxDepth {
		return fmt.Errorf("nested more than %d deep", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	switch tok {
	case nil:
		return errors.New("null is not allowed; leave the member out")
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := tok.(string)
			if names != nil && !names(key) {
				return fmt.Errorf("unknown member %q", key)
			}
			if seen[key] {
				return fmt.Errorf("member %q is given twice", key)
			}
			seen[key] = true
			if err := walk(dec, depth+1, names); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
		return err
	case json.Delim('['):
		for dec.More() {
			if err := walk(dec, depth+1, names); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
		return err
	}
	return nil
}

// decodeBase64 decodes standard, padded base64 and accepts only the form the
// encoder writes: no line breaks, no stray bits in the last character. One
// value has one spelling, so logs and golden files compare byte for byte.
func decodeBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	if base64.StdEncoding.EncodeToString(b) != s {
		return nil, errors.New("not in canonical form (standard alphabet, padded, one line)")
	}
	return b, nil
}

// validID is agent/config's rule for kiosk and township ids, which are MQTT
// topic levels: lower-case letters, digits and '-', at most 63, not starting
// with '-'. Repeated here so the verifier stands on its own.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
