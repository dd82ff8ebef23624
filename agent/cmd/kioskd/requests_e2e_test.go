package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/request"
	"github.com/fengqiao/kiosk/agent/schema"
	townshipctl "github.com/fengqiao/kiosk/agent/township"
	"github.com/fengqiao/kiosk/drivers/idcard/idcardsim"
)

// TestRequestOfflineByCardAcrossRestart: with the township unreachable, a
// villager taps a card and raises a request on the real kioskd; a second
// tap finds it; kioskd restarts (its request secret read back from the
// data directory, not made anew), and the number with the phone's last
// four digits still checks it; once the broker is up the record reaches
// the township with the card's name and no ID number, and kioskd never
// logged the number. The township's signed answer closing it then reaches
// the kiosk, and after another restart a card tap shows 已办结 and the
// reply.
func TestRequestOfflineByCardAcrossRestart(t *testing.T) {
	broker := mosquittotest.New(t) // reserved; the township is unreachable
	sim := idcardsim.New(idcardsim.Options{})
	pty, err := idcardsim.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer pty.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sim.Serve(ctx, pty.Master)

	dataDir := t.TempDir()
	k := mustStartKioskd(t, dataDir, broker.URL, "--idcard-device", pty.Path)
	c := localclient.New(k.socket)
	waitReader := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			st, err := c.Status(ctx)
			if err == nil && st.IDCard.State == apitype.ReaderReady {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("reader never ready: %+v %v", st.IDCard, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitReader()
	card := idcardsim.Fixtures()[1]
	tap := func() string {
		t.Helper()
		cursor, err := c.CardEvents(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Taken away for longer than the reader's poll, so that the next
		// placing is a new read with a new token.
		sim.RemoveCard()
		time.Sleep(1200 * time.Millisecond)
		sim.PlaceCard(card)
		for {
			evs, err := c.CardEvents(ctx, cursor.Next, 10*time.Second)
			if err != nil || len(evs.Events) == 0 {
				t.Fatalf("card events = %+v, %v", evs, err)
			}
			cursor.Next = evs.Next
			for _, e := range evs.Events {
				if e.Card != nil {
					return e.Card.Token
				}
			}
		}
	}

	menu, err := c.RequestMenu(ctx)
	if err != nil || len(menu.Places) == 0 {
		t.Fatalf("menu: %+v %v", menu, err)
	}
	r, err := c.SubmitRequest(ctx, apitype.RequestSubmit{Kind: "concern", Category: "roads", Phrases: []string{"路灯不亮"},
		Place: menu.Places[0].ID, Card: tap(), Phone: "13905991234"})
	if err != nil {
		t.Fatal(err)
	}
	mine, err := c.RequestsByCard(ctx, tap())
	if err != nil || len(mine.Requests) != 1 || mine.Requests[0].Number != r.Number {
		t.Fatalf("requests by card: %+v %v", mine, err)
	}
	secret, err := os.ReadFile(filepath.Join(dataDir, request.SecretFile))
	if err != nil || len(secret) == 0 {
		t.Fatalf("request secret: %v", err)
	}

	k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.done:
	case <-time.After(10 * time.Second):
		t.Fatal("kioskd did not stop within 10 s of SIGTERM")
	}
	log := k.out.String()
	k = mustStartKioskd(t, dataDir, broker.URL)
	c = localclient.New(k.socket)
	got, err := c.CheckRequest(ctx, r.Number, apitype.RequestProof{Phone4: "1234"})
	if err != nil || got.Status != apitype.RequestSubmitted || got.Via != request.ViaCard {
		t.Errorf("after a restart: %+v %v", got, err)
	}
	if again, _ := os.ReadFile(filepath.Join(dataDir, request.SecretFile)); string(again) != string(secret) {
		t.Error("the request secret changed across a restart")
	}

	broker.Start()
	records := broker.Subscribe(t, mqtttopic.Records("dev-township"))
	var env record.Envelope
	json.Unmarshal(mustReceive(t, records, 20*time.Second).Payload(), &env)
	var body schema.RequestV1
	json.Unmarshal(env.Body, &body)
	if env.ID != r.ID || env.Type != "request" || body.Contact == nil || body.Contact.Via != "card" ||
		(body.Contact.Name == nil && !slices.Contains(body.Withheld, "contact.name")) {
		t.Errorf("record = %+v body %+v", env, body)
	}
	if strings.Contains(string(env.Body), card.Name) {
		t.Error("the record carries the card's name in clear (it is sealed, docs/requests.md)")
	}
	if strings.Contains(string(env.Body), card.IDNumber) {
		t.Error("the record carries the ID number")
	}
	log += k.out.String()
	if strings.Contains(log, card.IDNumber) || strings.Contains(log, card.IDNumber[6:14]) || strings.Contains(log, "13905991234") {
		t.Error("kioskd logged the ID number or the phone")
	}

	// The township closes it (a signed answer, retained on the request's
	// topic); after a restart with the reader, the villager's card tap
	// shows 已办结 and the reply.
	const reply = "路灯已于12月5日修复。"
	now := time.Now().UTC().Truncate(time.Second)
	content, err := request.Change{Format: request.StatusFormat, Request: r.ID, Seq: r.Seq, Status: request.StatusClosed,
		Reply: reply, By: "镇综治中心", At: now}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	answer, err := bundle.Sign(bundle.Bundle{Kind: bundle.KindRequestStatus, Version: uint64(now.Unix()),
		Target:    bundle.Target{Township: "dev-township", Kiosks: []string{"dev-kiosk-01"}},
		NotBefore: now.Add(-time.Minute), Expires: now.Add(24 * time.Hour), Content: content}, mustDevTownshipKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := townshipctl.Push(ctx, townshipctl.Conn{Broker: broker.URL}, mqtttopic.RequestStatus("dev-township", "dev-kiosk-01", r.Seq), answer); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := c.CheckRequest(ctx, r.Number, apitype.RequestProof{Phone4: "1234"})
		if err == nil && got.Status == apitype.RequestClosed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the answer never reached the check: %+v %v", got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.done:
	case <-time.After(10 * time.Second):
		t.Fatal("kioskd did not stop within 10 s of SIGTERM")
	}
	k = mustStartKioskd(t, dataDir, broker.URL, "--idcard-device", pty.Path)
	c = localclient.New(k.socket)
	waitReader()
	mine, err = c.RequestsByCard(ctx, tap())
	if err != nil || len(mine.Requests) != 1 {
		t.Fatalf("requests by card after the answer: %+v %v", mine, err)
	}
	if got := mine.Requests[0]; got.Status != apitype.RequestClosed || got.StatusText != "已办结" || got.Reply != reply {
		t.Errorf("the card tap shows %+v", got)
	}
}
