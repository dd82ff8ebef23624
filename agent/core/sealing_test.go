package core

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/schema"
	"github.com/fengqiao/kiosk/agent/sealed"
)

// mustDevRecordsKey is the dev township's records key, which the dev site
// seals to. Read as it is: git does not keep its 0600.
func mustDevRecordsKey(t *testing.T) *sealed.PrivateKey {
	t.Helper()
	data, err := os.ReadFile("../../packaging/dev/dev-township-records.key")
	if err != nil {
		t.Fatal(err)
	}
	k, err := sealed.DecodePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mustBookPhone books a consultation with phone tel and returns its record.
func mustBookPhone(t *testing.T, c *Core, ob *outbox.Outbox, tel string) record.Envelope {
	t.Helper()
	slots, err := c.Slots("legal-advisor")
	if err != nil || len(slots.Slots) == 0 {
		t.Fatalf("slots: %v %v", slots, err)
	}
	if _, err := c.Book(context.Background(), apitype.BookingRequest{Service: "legal-advisor", Topic: "婚姻家庭", Name: "王秀英",
		Phone: tel, Slot: slots.Slots[0].Format(time.RFC3339)}); err != nil {
		t.Fatal(err)
	}
	return mustLastRecord(t, ob)
}

// mustApplyRecordsKey puts a bundle with a records section in force, as
// the township's rotation does.
func mustApplyRecordsKey(t *testing.T, c *Core, key string, version uint64) {
	t.Helper()
	cfg, err := c.Config().WithBundle("bundle", []byte("schema: "+config.BundleSchema+"\nrecords:\n  township_key: \""+key+"\"\n"), version)
	if err != nil {
		t.Fatal(err)
	}
	c.ApplyConfig(cfg)
}

// TestRecordsKeyRotation: the kiosk seals to the records key in force; a
// bundle rotates it, and the township, holding the old and the new key,
// reads records sealed to either, while one with the new key alone cannot
// read the old. A kiosk left without a key withholds the phone and says so.
func TestRecordsKeyRotation(t *testing.T) {
	c, ob := mustCore(t)
	old := mustDevRecordsKey(t)
	before := mustBookPhone(t, c, ob, "13800001111")

	next, err := sealed.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	mustApplyRecordsKey(t, c, next.Public().String(), 5)
	after := mustBookPhone(t, c, ob, "13800002222")

	tests := []struct {
		name string
		env  record.Envelope
		keys []*sealed.PrivateKey
		want error
	}{
		{"before the rotation, both keys", before, []*sealed.PrivateKey{old, next}, nil},
		{"after the rotation, both keys", after, []*sealed.PrivateKey{old, next}, nil},
		{"before the rotation, the new key only", before, []*sealed.PrivateKey{next}, sealed.ErrUnknownKey},
		{"after the rotation, the old key only", after, []*sealed.PrivateKey{old}, sealed.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body schema.BookingV2
			if err := json.Unmarshal(tt.env.Body, &body); err != nil || body.Phone == nil {
				t.Fatalf("body %s: %v", tt.env.Body, err)
			}
			_, err := sealed.NewOpener(tt.keys...).Open(tt.env.ID, "phone", *body.Phone)
			if !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
		})
	}
	var b1, b2 schema.BookingV2
	json.Unmarshal(before.Body, &b1)
	json.Unmarshal(after.Body, &b2)
	if b1.Phone.KeyID != old.ID() || b2.Phone.KeyID != next.ID() {
		t.Errorf("sealed to %s then %s, want %s then %s", b1.Phone.KeyID, b2.Phone.KeyID, old.ID(), next.ID())
	}

	// A dev kiosk without a records key (its site file has none; a bundle
	// cannot take the key away): the phone is withheld, not sent in clear,
	// and the record says so.
	c.ApplyConfig(c.Config().WithRecordsKey(""))
	none := mustBookPhone(t, c, ob, "13800003333")
	var b3 schema.BookingV2
	if err := json.Unmarshal(none.Body, &b3); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(none.Body), "13800003333") || b3.Phone != nil || b3.PhoneMasked != "138****3333" ||
		len(b3.Withheld) != 1 || b3.Withheld[0] != "phone" {
		t.Errorf("booking without a records key: %s", none.Body)
	}
}
