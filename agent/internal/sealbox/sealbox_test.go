package sealbox

import (
	"bytes"
	"errors"
	"testing"
)

func mustBox(t *testing.T, fill byte) *Box {
	t.Helper()
	b, err := New(bytes.Repeat([]byte{fill}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpen(t *testing.T) {
	b := mustBox(t, 1)
	sealed := b.Seal([]byte("hdr"), []byte("王秀英 13812345678"), []byte("case/1"))
	if !bytes.HasPrefix(sealed, []byte("hdr")) || bytes.Contains(sealed, []byte("13812345678")) {
		t.Fatalf("sealed = %q", sealed)
	}
	body := sealed[3:]
	tests := []struct {
		name string
		box  *Box
		in   []byte
		ad   string
		want error
	}{
		{"same key and ad", b, body, "case/1", nil},
		{"other ad: a value moved to another key", b, body, "case/2", ErrOpen},
		{"other key", mustBox(t, 2), body, "case/1", ErrOpen},
		{"truncated", b, body[:10], "case/1", ErrShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.Open(tt.in, []byte(tt.ad))
			if !errors.Is(err, tt.want) || (err == nil && string(got) != "王秀英 13812345678") {
				t.Errorf("Open = %q, %v; want %v", got, err, tt.want)
			}
		})
	}
	if _, err := New(make([]byte, 16)); !errors.Is(err, ErrKeySize) {
		t.Errorf("New with a 16-byte key = %v", err)
	}
}
