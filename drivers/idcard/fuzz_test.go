package idcard_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/fengqiao/kiosk/drivers/idcard"
)

// FuzzFrameDecoder feeds arbitrary streams, read chunk bytes at a time.
// Invariants: no panic, bounded work, only the documented errors, and every
// decoded body re-encodes to a frame that occurs verbatim in the stream
// and decodes back to the same body.
func FuzzFrameDecoder(f *testing.F) {
	// Seeds live in testdata/fuzz/FuzzFrameDecoder; one inline for go vet.
	f.Add([]byte("\xAA\xAA\xAA\x96\x69\x00\x03\x20\x01\x22"), byte(1))
	f.Fuzz(func(t *testing.T, stream []byte, chunk byte) {
		var r io.Reader = bytes.NewReader(stream)
		if chunk > 0 {
			r = &chunkReader{b: stream, n: int(chunk)}
		}
		d := idcard.NewDecoder(r)
		for calls := 0; ; calls++ {
			// Every call consumes at least one byte or ends the stream.
			if calls > len(stream)+2 {
				t.Fatalf("%d calls for %d bytes", calls, len(stream))
			}
			body, err := d.Next()
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					return
				}
				if !errors.Is(err, idcard.ErrChecksum) && !errors.Is(err, idcard.ErrShortFrame) && !errors.Is(err, idcard.ErrFrameTooLong) {
					t.Fatalf("undocumented error %v", err)
				}
				continue
			}
			frame, err := idcard.AppendFrame(nil, body)
			if err != nil {
				t.Fatalf("decoded body does not re-encode: %v", err)
			}
			if !bytes.Contains(stream, frame) {
				t.Fatalf("re-encoded frame % X not in the stream", frame)
			}
			again, err := idcard.NewDecoder(bytes.NewReader(frame)).Next()
			if err != nil || !bytes.Equal(again, body) {
				t.Fatalf("re-decode: %v", err)
			}
			if _, err := idcard.ParseResponse(body); err != nil && len(body) >= 3 {
				t.Fatalf("ParseResponse: %v", err)
			}
		}
	})
}

// FuzzDecodeText: no panic; a block that decodes re-encodes, and the
// re-encoded block decodes to the same card; String never shows a long
// ID number in full.
func FuzzDecodeText(f *testing.F) {
	f.Add(bytes.Repeat([]byte{' ', 0}, 128))
	f.Fuzz(func(t *testing.T, block []byte) {
		c, err := idcard.DecodeText(block)
		if len(block) != idcard.TextBlockLen {
			if err == nil {
				t.Fatalf("%d-byte block decoded", len(block))
			}
			return
		}
		if err != nil {
			if !errors.Is(err, idcard.ErrTextBlock) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		enc, err := idcard.EncodeText(c)
		if err != nil {
			t.Fatalf("decoded card does not re-encode: %v", err)
		}
		again, err := idcard.DecodeText(enc)
		if err != nil {
			t.Fatalf("re-encoded block does not decode: %v", err)
		}
		if !reflect.DeepEqual(c, again) {
			t.Fatalf("round trip changed the card:\n%+v\n%+v", diffFields(c, again), c.Type)
		}
		id := c.IDNumber
		if len([]rune(id)) >= 10 && !strings.Contains(id, "*") {
			if s := c.String(); strings.Contains(s, id) && !strings.Contains("idcard.Card{"+c.Type.String(), id) {
				t.Fatalf("String shows the ID number")
			}
		}
		_ = c.Validate()
		_ = idcard.Mask(id)
	})
}
