package sealed

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fengqiao/kiosk/agent/schema"
)

func mustKey(t *testing.T) *PrivateKey {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSeal(t *testing.T, pub *PublicKey, recordID, path, plaintext string) schema.Sealed {
	t.Helper()
	s, err := pub.Seal(recordID, path, plaintext)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const idNumber = "35078219600301402X"

// TestOpenRefuses: the township opens a value only with the key its id
// names, in the record and field it was sealed for.
func TestOpenRefuses(t *testing.T) {
	current, old, other := mustKey(t), mustKey(t), mustKey(t)
	township := NewOpener(current, old) // during a rotation: both
	s := mustSeal(t, current.Public(), "rec-1", "parties[0].id_number", idNumber)
	if s.KeyID != current.ID() || bytes.Contains(s.Box, []byte(idNumber)) {
		t.Fatalf("sealed = %+v", s)
	}
	tampered := s
	tampered.Box = bytes.Clone(s.Box)
	tampered.Box[len(tampered.Box)-1] ^= 1
	mustOpenAsWanted(t, township, []openCase{
		{"as sealed", "rec-1", "parties[0].id_number", s, nil},
		{"sealed to the old key during a rotation", "rec-1", "parties[0].id_number", mustSeal(t, old.Public(), "rec-1", "parties[0].id_number", idNumber), nil},
		{"unknown key id", "rec-1", "parties[0].id_number", mustSeal(t, other.Public(), "rec-1", "parties[0].id_number", idNumber), ErrUnknownKey},
		{"key id not hex", "rec-1", "parties[0].id_number", schema.Sealed{KeyID: "not-a-key-id!!!!", Box: s.Box}, ErrMalformed},
		{"key id upper case", "rec-1", "parties[0].id_number", schema.Sealed{KeyID: strings.ToUpper(s.KeyID), Box: s.Box}, ErrMalformed},
		{"key id of another held key", "rec-1", "parties[0].id_number", schema.Sealed{KeyID: old.ID(), Box: s.Box}, ErrOpen},
		{"tampered", "rec-1", "parties[0].id_number", tampered, ErrOpen},
		{"truncated", "rec-1", "parties[0].id_number", schema.Sealed{KeyID: s.KeyID, Box: s.Box[:40]}, ErrMalformed},
		{"moved to another record", "rec-2", "parties[0].id_number", s, ErrOpen},
		{"moved to another field", "rec-1", "parties[1].id_number", s, ErrOpen},
	})
}

// openCase is a sealed value the township is given to open as field path
// of record recordID, and the error it must answer (nil: idNumber).
type openCase struct {
	name     string
	recordID string
	path     string
	s        schema.Sealed
	want     error
}

func mustOpenAsWanted(t *testing.T, township *Opener, cases []openCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := township.Open(tt.recordID, tt.path, tt.s)
			if !errors.Is(err, tt.want) || (err == nil && got != idNumber) {
				t.Errorf("Open = %q, %v; want %v", got, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), idNumber) {
				t.Errorf("error %q shows the number", err)
			}
		})
	}
}

func TestOpenBody(t *testing.T) {
	k := mustKey(t)
	pub := k.Public()
	phone := mustSeal(t, pub, "r", "parties[0].phone", "13905991234")
	id := mustSeal(t, pub, "r", "parties[0].id_number", idNumber)
	foreign := mustSeal(t, mustKey(t).Public(), "r", "parties[1].phone", "13800001111")
	enc := func(s schema.Sealed) string { b, _ := json.Marshal(s); return string(b) }
	body := `{"case":"c","parties":[{"name":"陈","phone":` + enc(phone) + `,"id_number":` + enc(id) + `,"id_type":"resident"},` +
		`{"name":"李","phone":` + enc(foreign) + `}],"note":"a \u003c b","n":[1, 2]}`
	paths, err := Fields([]byte(body))
	if err != nil || strings.Join(paths, " ") != "parties[0].phone parties[0].id_number parties[1].phone" {
		t.Fatalf("Fields = %q, %v", paths, err)
	}
	got, errs := NewOpener(k).OpenBody("r", []byte(body))
	want := `{"case":"c","parties":[{"name":"陈","phone":"13905991234","id_number":"` + idNumber + `","id_type":"resident"},` +
		`{"name":"李","phone":` + enc(foreign) + `}],"note":"a \u003c b","n":[1,2]}`
	if string(got) != want {
		t.Errorf("OpenBody =\n%s\nwant\n%s", got, want)
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrUnknownKey) || !strings.Contains(errs[0].Error(), "parties[1].phone") {
		t.Errorf("errors = %v", errs)
	}
	if _, errs := NewOpener(k).OpenBody("r", []byte(`{"a":`)); len(errs) != 1 || !errors.Is(errs[0], ErrMalformed) {
		t.Errorf("OpenBody of broken JSON: %v", errs)
	}
}

func TestOpenRecord(t *testing.T) {
	k := mustKey(t)
	phone := mustSeal(t, k.Public(), "rec-9", "phone", "13905991234")
	box, _ := json.Marshal(phone)
	rec := `{"id": "rec-9", "seq": 3, "body": {"name": "陈", "phone": ` + string(box) + `}, "ts": "x"}`
	got, errs := NewOpener(k).OpenRecord([]byte(rec))
	if want := `{"id":"rec-9","seq":3,"body":{"name":"陈","phone":"13905991234"},"ts":"x"}`; len(errs) > 0 || string(got) != want {
		t.Errorf("OpenRecord = %s, %v; want %s", got, errs, want)
	}
	// The same body under another record's id does not open.
	moved := strings.Replace(rec, `"rec-9"`, `"rec-10"`, 1)
	if got, errs := NewOpener(k).OpenRecord([]byte(moved)); len(errs) != 1 || !errors.Is(errs[0], ErrOpen) || strings.Contains(string(got), "13905991234") {
		t.Errorf("moved record: %s, %v", got, errs)
	}
}

func TestKeyFiles(t *testing.T) {
	k := mustKey(t)
	path := filepath.Join(t.TempDir(), "records.key")
	if err := WritePrivateKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	if err := WritePrivateKeyFile(path, k); err == nil {
		t.Error("a key file was overwritten")
	}
	back, err := ReadPrivateKeyFile(path)
	if err != nil || back.ID() != k.ID() {
		t.Fatalf("ReadPrivateKeyFile = %v, %v", back, err)
	}
	pub, err := ParsePublicKey(" " + k.Public().String() + "\n")
	if err != nil || pub.ID() != k.ID() {
		t.Fatalf("ParsePublicKey = %v, %v", pub, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPrivateKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a key others can read: %v", err)
	}
	for _, bad := range []string{"", "HKed1wQb110VBAibFcTLdFa7", strings.Repeat("A", 43) + "!", strings.Repeat("A", 43) + "="} {
		if _, err := ParsePublicKey(bad); !errors.Is(err, ErrKey) {
			t.Errorf("ParsePublicKey(%q) = %v", bad, err)
		}
	}
	signing := "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIFZvNLb7roFIeoSvRhfdStfHYwWgncM+ddwAFxitA4Sx\n-----END PRIVATE KEY-----\n"
	if _, err := DecodePrivateKey([]byte(signing)); !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), "signing key") {
		t.Errorf("a signing key read as a records key: %v", err)
	}
}

// FuzzOpenRecord: whatever a broker delivers, the township's opener does
// not panic, and from a JSON object it makes a JSON object.
func FuzzOpenRecord(f *testing.F) {
	k, err := DecodePrivateKey([]byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VuBCIEIJggaYmUh7+QYpmv9DB09TGH+PsoYu427wgIENfh2j9e\n-----END PRIVATE KEY-----\n"))
	if err != nil {
		f.Fatal(err)
	}
	s, err := k.Public().Seal("r", "parties[0].id_number", idNumber)
	if err != nil {
		f.Fatal(err)
	}
	box, _ := json.Marshal(s)
	f.Add([]byte(`{"id":"r","body":{"parties":[{"id_number":` + string(box) + `}]}}`))
	e, err := NewSealer(k.Public(), nil, 0).Seal("r", "phone", "13905991234")
	if err != nil {
		f.Fatal(err)
	}
	ebox, _ := json.Marshal(e)
	f.Add([]byte(`{"id":"r","body":{"phone":` + string(ebox) + `}}`))
	f.Add([]byte(`{"id":"r","body":{"phone":{"key_id":"89525716719966ca","sealed":"AAAA"}}}`))
	f.Add([]byte(`{"id":1,"body":[{"key_id":"x","sealed":""}]}`))
	f.Add([]byte(`[{"body":{}}]`))
	o := NewOpener(k)
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, _ := o.OpenRecord(payload)
		var in map[string]any
		if json.Unmarshal(payload, &in) == nil && !json.Valid(out) {
			t.Fatalf("OpenRecord(%q) = %q, not JSON", payload, out)
		}
	})
}
