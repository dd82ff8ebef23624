package record

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// Encode returns env as JSON: byte for byte what json.Marshal(env) gives,
// which is what the outbox stores and publishes. json.Marshal re-encodes
// the body on the way (a RawMessage is compacted and HTML-escaped again,
// after record.New has just encoded it); Encode copies a body that is
// already in that form and writes the envelope's own fields directly,
// falling back to json.Marshal for anything else: a body with spaces or
// characters json.Marshal escapes, a field needing escapes, a time not in
// UTC. TestEncodeIsMarshal holds it to json.Marshal.
func Encode(env Envelope) ([]byte, error) {
	if out, ok := appendEnvelope(make([]byte, 0, 256+len(env.Body)), env); ok {
		return out, nil
	}
	return json.Marshal(env)
}

func appendEnvelope(b []byte, e Envelope) ([]byte, bool) {
	if !canonicalBody(e.Body) || e.TS.Location() != time.UTC || e.TS.Year() < 0 || e.TS.Year() > 9999 {
		return nil, false
	}
	ok := true
	str := func(b []byte, key, s string) []byte {
		b = append(b, key...)
		ok = ok && plain(s)
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	b = str(b, `{"id":`, e.ID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = str(b, `,"kiosk":`, e.Kiosk)
	b = str(b, `,"township":`, e.Township)
	b = str(b, `,"village":`, e.Village)
	b = str(b, `,"type":`, e.Type)
	b = str(b, `,"schema":`, e.Schema)
	b = append(b, `,"ts":"`...)
	b = e.TS.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","body":`...)
	b = append(b, e.Body...)
	b = append(b, '}')
	return b, ok
}

// plain reports whether json.Marshal writes s as it is between quotes:
// valid UTF-8 with no control characters, quotes, backslashes, HTML
// characters, U+2028 or U+2029.
func plain(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}

// canonicalBody reports whether json.Marshal copies body unchanged when it
// encodes it as a RawMessage: valid JSON, with no whitespace between
// tokens and nothing that it escapes (<, >, &, U+2028, U+2029). What
// json.Marshal produced is.
func canonicalBody(body []byte) bool {
	in, esc := false, false
	for i, c := range body {
		switch {
		case esc:
			esc = false
		case c == '\\':
			esc = in
		case c == '"':
			in = !in
		case c == '<' || c == '>' || c == '&':
			return false
		case c == 0xE2 && i+2 < len(body) && body[i+1] == 0x80 && (body[i+2] == 0xA8 || body[i+2] == 0xA9):
			return false
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return len(body) > 0 && json.Valid(body)
}
