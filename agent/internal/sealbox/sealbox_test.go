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

func TestOpenAppend(t *testing.T) {
	b := mustBox(t, 1)
	one := b.Seal(nil, []byte("王秀英"), []byte("ad1"))
	two := b.Seal(nil, []byte("13812345678"), []byte("ad2"))
	buf, err := b.OpenAppend([]byte("x"), one, []byte("ad1"))
	if err != nil {
		t.Fatal(err)
	}
	buf, err = b.OpenAppend(buf, two, []byte("ad2"))
	if err != nil || string(buf) != "x王秀英13812345678" {
		t.Fatalf("OpenAppend twice = %q, %v", buf, err)
	}
	got, err := b.OpenAppend(buf, two, []byte("wrong"))
	if !errors.Is(err, ErrOpen) || string(got) != string(buf) {
		t.Errorf("OpenAppend with the wrong ad = %q, %v; want the buffer unchanged and ErrOpen", got, err)
	}
	if got, err := b.OpenAppend(buf, []byte("short"), nil); !errors.Is(err, ErrShort) || len(got) != len(buf) {
		t.Errorf("OpenAppend of a short value = %q, %v", got, err)
	}
}

// TestSealInPlace: a value sealed in place opens as one sealed by Seal, and
// what was before it is kept.
func TestSealInPlace(t *testing.T) {
	box, err := New(make([]byte, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"id":"x","seq":7,"body":{"name":"王秀英"}}`)
	v := append([]byte("head"), make([]byte, NonceSize)...)
	v = append(v, plain...)
	v = append(make([]byte, 0, len(v)+Overhead), v...)
	sealed := box.SealInPlace(v, 4, []byte("ad"))
	if &sealed[0] != &v[0] {
		t.Error("sealed into a new buffer with room to spare")
	}
	if string(sealed[:4]) != "head" || len(sealed) != 4+NonceSize+len(plain)+Overhead {
		t.Fatalf("sealed value %q", sealed)
	}
	got, err := box.Open(sealed[4:], []byte("ad"))
	if err != nil || string(got) != string(plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := box.Open(sealed[4:], []byte("other")); err == nil {
		t.Error("opened with other additional data")
	}
}
