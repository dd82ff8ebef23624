package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/points"
	"github.com/fengqiao/kiosk/agent/township"
	"github.com/fengqiao/kiosk/drivers/idcard/idcardsim"
)

// TestPointsLoop closes the loop of 美德银行 on a real Mosquitto: kioskctl
// signs the village's export and pushes it; the real kioskd verifies and
// applies it; a villager's card tap on the simulated reader shows their
// balance and newest entries; a newer ledger pushed while the screen shows
// the old one is what the view reads next; the kiosk reports the ledger in
// force; and neither the ID number nor the account key is in kioskd's log.
func TestPointsLoop(t *testing.T) {
	broker := mosquittotest.Start(t)
	sim := idcardsim.New(idcardsim.Options{})
	pty, err := idcardsim.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer pty.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sim.Serve(ctx, pty.Master)
	pointsKey := mustDevPointsKey(t)
	k := mustKioskWith(t, broker.URL, func(cfg *config.Config) error {
		cfg.Site.Points.KeyFile = pointsKey // absolute: the site file is not copied
		return cfg.OverrideIDCardDevice(pty.Path)
	})

	signKey := mustPrivateCopy(t, devSignKey)
	dir := t.TempDir()
	sign := func(version, entries string) string {
		t.Helper()
		out := filepath.Join(dir, "ledger-"+version+".json")
		if _, code := kioskctl(t, "points", "sign", "--key", signKey, "--points-key", pointsKey, "--township", "dev-township",
			"--kiosks", "dev-kiosk-01", "--site", devSite, "--entries", entries, "--shop", "testdata/points-shop.yaml",
			"--version", version, "--out", out); code != 0 {
			t.Fatalf("points sign v%s: exit %d", version, code)
		}
		if _, code := kioskctl(t, "points", "push", "--broker", broker.URL, out); code != 0 {
			t.Fatalf("points push v%s: exit %d", version, code)
		}
		return out
	}
	sign("100", "testdata/points-entries.csv")
	deadline := time.Now().Add(15 * time.Second)
	for {
		pub, err := k.client.Points(ctx)
		if err == nil && pub.Available && pub.Version == 100 {
			if pub.Village != "开发村" || len(pub.Offers) != 2 || len(pub.Rules) != 2 {
				t.Errorf("public part = %+v", pub)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ledger never came: %+v %v", pub, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	card := idcardsim.Fixtures()[1] // 35078219600301402X, the export's first villager
	sim.PlaceCard(card)
	var token string
	for deadline := time.Now().Add(10 * time.Second); token == ""; {
		evs, err := k.client.CardEvents(ctx, 0, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs.Events {
			if e.Card != nil {
				token = e.Card.Token
			}
		}
		if token == "" && time.Now().After(deadline) {
			t.Fatal("the card was never read")
		}
	}
	acc, err := k.client.PointsByCard(ctx, token)
	if err != nil || !acc.Found || acc.Balance != 85 || len(acc.Entries) != 2 || acc.Entries[0].Reason != "参加村道环境整治" || acc.Version != 100 {
		t.Fatalf("the card's points: %+v %v", acc, err)
	}

	// A newer export while the screen shows v100: one more entry.
	entries, err := os.ReadFile("testdata/points-entries.csv")
	if err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer.csv")
	os.WriteFile(newer, append(entries, []byte("35078219600301402X,2026-12-06,10,调解邻里纠纷\n")...), 0o600)
	sign("101", newer)
	var view apitype.PointsAccount
	for deadline := time.Now().Add(15 * time.Second); ; {
		view, err = k.client.PointsView(ctx, acc.View)
		if err != nil {
			t.Fatalf("view: %v", err)
		}
		if view.Version == 101 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the view still reads %+v", view)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if view.Balance != 95 || view.Entries[0].Reason != "调解邻里纠纷" {
		t.Errorf("the view after v101: %+v", view)
	}

	// The older ledger pushed again is refused by kioskctl before it is
	// published.
	if _, code := kioskctl(t, "points", "push", "--broker", broker.URL, filepath.Join(dir, "ledger-100.json")); code == 0 {
		t.Error("an older ledger was pushed over a newer one")
	}
	topic := mqtttopic.PointsReported("dev-township", "dev-kiosk-01")
	for deadline := time.Now().Add(10 * time.Second); ; {
		got, err := township.Retained(ctx, township.Conn{Broker: broker.URL}, []string{topic}, time.Second)
		var r points.Reported
		if err == nil && json.Unmarshal(got[topic], &r) == nil && r.Version == 101 {
			if r.KeyID != points.DevKeyID || len(r.Refused) != 0 {
				t.Errorf("report = %+v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the kiosk never reported v101: %s %v", got[topic], err)
		}
	}

	out, code := kioskctl(t, "points", "status", "--broker", broker.URL, "--township", "dev-township", "--wait", "500ms")
	if code != 0 || !strings.Contains(out, "dev-kiosk-01") || !strings.Contains(out, "v101") || !strings.Contains(out, points.DevKeyID) {
		t.Errorf("points status: exit %d\n%s", code, out)
	}

	pk, err := points.ReadKeyFile(pointsKey, true)
	if err != nil {
		t.Fatal(err)
	}
	account, _ := pk.Account(card.IDNumber)
	log := k.log.String()
	if strings.Contains(log, card.IDNumber) || strings.Contains(log, card.IDNumber[6:14]) || strings.Contains(log, account[:16]) {
		t.Error("kioskd logged the ID number or the account key")
	}
}
