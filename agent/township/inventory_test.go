package township

import (
	"errors"
	"strings"
	"testing"

	"github.com/fengqiao/kiosk/agent/bundle"
)

func mustInventory(t *testing.T) (*Inventory, string) {
	t.Helper()
	pub, _, err := bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	inv := &Inventory{}
	for _, k := range []string{"dev-kiosk-01", "dev-kiosk-02"} {
		if err := inv.AddSite("sites/"+k+".yaml", "dev-township", k, []string{bundle.FormatPublicKey(pub)}); err != nil {
			t.Fatal(err)
		}
	}
	inv.Add(KnownKiosk{Township: "dev-township", Kiosk: "dev-kiosk-07", Source: "the broker"})
	inv.Add(KnownKiosk{Township: "dev-township", Kiosk: "dev-kiosk-01", Source: "the broker"}) // keeps its site file
	inv.Add(KnownKiosk{Township: "xingcun", Kiosk: "xingcun-01", Source: "the broker"})
	return inv, bundle.FormatPublicKey(pub)
}

func TestInventoryCheckTarget(t *testing.T) {
	inv, _ := mustInventory(t)
	for _, tt := range []struct {
		name   string
		target bundle.Target
		want   []string // nil: no error
	}{
		{"township", bundle.Target{Township: "dev-township"}, nil},
		{"kiosks", bundle.Target{Township: "dev-township", Kiosks: []string{"dev-kiosk-01", "dev-kiosk-07"}}, nil},
		{"township typo", bundle.Target{Township: "dev-townshp"}, []string{`"dev-townshp"`, `did you mean "dev-township"?`, "townships known: dev-township, xingcun"}},
		{"far from any", bundle.Target{Township: "beicun"}, []string{`"beicun"`, "townships known"}},
		{"kiosk typo", bundle.Target{Township: "dev-township", Kiosks: []string{"dev-kiosk-1"}},
			[]string{`kiosk "dev-kiosk-1"`, `did you mean "dev-kiosk-01"?`, "dev-kiosk-01 (sites/dev-kiosk-01.yaml), dev-kiosk-02 (sites/dev-kiosk-02.yaml), dev-kiosk-07 (the broker)"}},
		{"kiosk of another township", bundle.Target{Township: "dev-township", Kiosks: []string{"xingcun-01"}}, []string{"it is a kiosk of xingcun"}},
		{"every bad id", bundle.Target{Township: "dev-township", Kiosks: []string{"a-1", "dev-kiosk-01", "b-2"}}, []string{`"a-1"`, `"b-2"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := inv.CheckTarget(tt.target)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrUnknownTarget) {
				t.Fatalf("error %v does not wrap ErrUnknownTarget", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v\ndoes not name %q", err, w)
				}
			}
		})
	}
	if err := (&Inventory{}).CheckTarget(bundle.Target{Township: "dev-township"}); !errors.Is(err, ErrUnknownTarget) {
		t.Errorf("an empty inventory: %v", err)
	}
}

func TestInventoryCheckKey(t *testing.T) {
	inv, trusted := mustInventory(t)
	pub, _ := bundle.ParsePublicKey(trusted)
	other, _, _ := bundle.GenerateKey()
	// dev-kiosk-02's site file trusts another key too, and not ours.
	if err := inv.AddSite("sites/dev-kiosk-02.yaml", "dev-township", "dev-kiosk-02", []string{bundle.FormatPublicKey(other)}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		target bundle.Target
		want   string // "": no error
	}{
		{"the kiosk that trusts it", bundle.Target{Township: "dev-township", Kiosks: []string{"dev-kiosk-01"}}, ""},
		{"the township: one does not", bundle.Target{Township: "dev-township"}, "not trusted by dev-kiosk-02 (sites/dev-kiosk-02.yaml trusts " + bundle.KeyID(other) + ")"},
		{"a broker-only kiosk: its township's site files stand for it", bundle.Target{Township: "dev-township", Kiosks: []string{"dev-kiosk-07"}}, "not trusted by dev-kiosk-02"},
		{"no site file", bundle.Target{Township: "xingcun"}, "no site file of xingcun"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := inv.CheckKey(tt.target, pub)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (!errors.Is(err, ErrUntrustedKey) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v; want ErrUntrustedKey naming %q", err, tt.want)
			}
		})
	}
	if err := inv.AddSite("sites/bad.yaml", "dev-township", "bad", []string{"not a key"}); err == nil || !strings.Contains(err.Error(), "sites/bad.yaml") {
		t.Errorf("a bad key in a site file: %v", err)
	}
}
