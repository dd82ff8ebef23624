package sealed

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/schema"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func mustEpochSeal(t *testing.T, s *Sealer, recordID, path, plaintext string) schema.Sealed {
	t.Helper()
	v, err := s.Seal(recordID, path, plaintext)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestEpochOpenRefuses: a value sealed in an epoch opens only with the key
// its id names, in the record and field it was sealed for, and under its
// own epoch's encapsulated key.
func TestEpochOpenRefuses(t *testing.T) {
	current, old := mustKey(t), mustKey(t)
	township := NewOpener(current, old)
	clock := &fakeClock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	sealer := NewSealer(current.Public(), clock.now, time.Hour)
	s := mustEpochSeal(t, sealer, "rec-1", "parties[0].id_number", idNumber)
	if s.KeyID != current.ID() || len(s.Enc) != 32 || bytes.Contains(s.Box, []byte(idNumber)) {
		t.Fatalf("sealed = %+v", s)
	}
	clock.set(clock.now().Add(2 * time.Hour))
	next := mustEpochSeal(t, sealer, "rec-1", "parties[0].id_number", idNumber)
	if bytes.Equal(next.Enc, s.Enc) {
		t.Fatal("no new epoch after two hours")
	}
	tampered := s
	tampered.Box = bytes.Clone(s.Box)
	tampered.Box[len(tampered.Box)-1] ^= 1
	mustOpenAsWanted(t, township, []openCase{
		{"as sealed", "rec-1", "parties[0].id_number", s, nil},
		{"a later epoch", "rec-1", "parties[0].id_number", next, nil},
		{"sealed to the old key during a rotation", "rec-1", "parties[0].id_number", mustEpochSeal(t, NewSealer(old.Public(), nil, 0), "rec-1", "parties[0].id_number", idNumber), nil},
		{"unknown key id", "rec-1", "parties[0].id_number", mustEpochSeal(t, NewSealer(mustKey(t).Public(), nil, 0), "rec-1", "parties[0].id_number", idNumber), ErrUnknownKey},
		{"key id of another held key", "rec-1", "parties[0].id_number", schema.Sealed{KeyID: old.ID(), Enc: s.Enc, Box: s.Box}, ErrOpen},
		{"another epoch's enc", "rec-1", "parties[0].id_number", schema.Sealed{KeyID: s.KeyID, Enc: next.Enc, Box: s.Box}, ErrOpen},
		{"enc cut short", "rec-1", "parties[0].id_number", schema.Sealed{KeyID: s.KeyID, Enc: s.Enc[:31], Box: s.Box}, ErrMalformed},
		{"enc empty", "rec-1", "parties[0].id_number", schema.Sealed{KeyID: s.KeyID, Enc: []byte{}, Box: s.Box}, ErrMalformed},
		{"tampered", "rec-1", "parties[0].id_number", tampered, ErrOpen},
		{"truncated", "rec-1", "parties[0].id_number", schema.Sealed{KeyID: s.KeyID, Enc: s.Enc, Box: s.Box[:20]}, ErrMalformed},
		{"moved to another record", "rec-2", "parties[0].id_number", s, ErrOpen},
		{"moved to another field", "rec-1", "parties[1].id_number", s, ErrOpen},
	})
}

// TestEpochs: one encapsulation serves an epoch's life; a clock set back
// (a kiosk's at boot) starts a new one rather than stretching the old.
func TestEpochs(t *testing.T) {
	k := mustKey(t)
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: start}
	sealer := NewSealer(k.Public(), clock.now, time.Hour)
	first := mustEpochSeal(t, sealer, "r1", "phone", "13905991234")
	steps := []struct {
		name string
		at   time.Time
		same bool
	}{
		{"a minute on", start.Add(time.Minute), true},
		{"just before the hour", start.Add(time.Hour - time.Nanosecond), true},
		{"the hour", start.Add(time.Hour), false},
	}
	for _, st := range steps {
		clock.set(st.at)
		v := mustEpochSeal(t, sealer, "r2", "phone", "13905991234")
		if bytes.Equal(v.Enc, first.Enc) != st.same {
			t.Errorf("%s: same epoch = %v, want %v", st.name, !st.same, st.same)
		}
	}
	later := mustEpochSeal(t, sealer, "r3", "phone", "1")
	clock.set(start.Add(-24 * time.Hour))
	if back := mustEpochSeal(t, sealer, "r4", "phone", "1"); bytes.Equal(back.Enc, later.Enc) {
		t.Error("a clock set back kept the epoch")
	}
	// Two fields of one record in one epoch: two keys, two nonces.
	a := mustEpochSeal(t, sealer, "r5", "applicant.phone", "13905991234")
	b := mustEpochSeal(t, sealer, "r5", "other.phone", "13905991234")
	if bytes.Equal(a.Box, b.Box) {
		t.Error("two fields sealed alike")
	}
}

// TestEpochBody: the township opens a body mixing both forms (records
// queued before the upgrade are single shot), and the JSON form is
// key_id, enc, sealed.
func TestEpochBody(t *testing.T) {
	k := mustKey(t)
	single := mustSeal(t, k.Public(), "r", "applicant.phone", "13905991234")
	epoch := mustEpochSeal(t, NewSealer(k.Public(), nil, 0), "r", "other.phone", "13800001111")
	enc := func(s schema.Sealed) string { b, _ := json.Marshal(s); return string(b) }
	if got := enc(epoch); !strings.HasPrefix(got, `{"key_id":"`+k.ID()+`","enc":"`) {
		t.Errorf("epoch form = %s", got)
	}
	if got := enc(single); strings.Contains(got, `"enc"`) {
		t.Errorf("single-shot form = %s", got)
	}
	body := `{"applicant":{"phone":` + enc(single) + `},"other":{"phone":` + enc(epoch) + `},"x":{"key_id":"` + k.ID() + `","enc":"AA==","sealed":"AA==","more":1}}`
	paths, err := Fields([]byte(body))
	if err != nil || strings.Join(paths, " ") != "applicant.phone other.phone" {
		t.Fatalf("Fields = %q, %v", paths, err)
	}
	got, errs := NewOpener(k).OpenBody("r", []byte(body))
	if want := `{"applicant":{"phone":"13905991234"},"other":{"phone":"13800001111"},"x":{"key_id":"` + k.ID() + `","enc":"AA==","sealed":"AA==","more":1}}`; len(errs) > 0 || string(got) != want {
		t.Errorf("OpenBody = %s, %v\nwant %s", got, errs, want)
	}
}

// BenchmarkSeal: what sealing one phone number costs the kiosk, single
// shot (one encapsulation per field) against in an epoch.
func BenchmarkSeal(b *testing.B) {
	k, err := GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	pub := k.Public()
	b.Run("single-shot", func(b *testing.B) {
		for b.Loop() {
			if _, err := pub.Seal("0190b0a4-7c3e-7def-8a55-8a0d0f1e2d3c", "phone", "13905991234"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("epoch", func(b *testing.B) {
		s := NewSealer(pub, nil, 0)
		for b.Loop() {
			if _, err := s.Seal("0190b0a4-7c3e-7def-8a55-8a0d0f1e2d3c", "phone", "13905991234"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
