package township

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
)

type lockedWriter struct {
	mu sync.Mutex
	sb strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sb.Write(p)
}

func (w *lockedWriter) lines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	sc := bufio.NewScanner(strings.NewReader(w.sb.String()))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func TestWatchDeduplicatesAndFilters(t *testing.T) {
	b := mosquittotest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedWriter{}
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, WatchOptions{Broker: b.URL, Township: "t1", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, out)
	}()

	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL).SetClientID("pub"))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	publish := func(topic, payload string) {
		tok := pub.Publish(topic, 1, false, payload)
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	// The watcher subscribes on connect; wait until a probe record arrives.
	deadline := time.Now().Add(10 * time.Second)
	for len(out.lines()) == 0 {
		publish(mqtttopic.Record("t1", "k1", "booking"), `{"id":"probe","seq":0}`)
		if time.Now().After(deadline) {
			t.Fatal("watcher never received anything")
		}
		time.Sleep(50 * time.Millisecond)
	}
	rec := "{\n  \"id\": \"a\",\n  \"seq\": 1\n}"
	publish(mqtttopic.Record("t1", "k1", "booking"), rec)
	publish(mqtttopic.Record("t1", "k1", "booking"), rec) // redelivery
	publish(mqtttopic.Record("t1", "k2", "booking"), "not json")
	publish(mqtttopic.Record("t2", "k9", "booking"), `{"id":"other-township"}`)
	publish(mqtttopic.Record("t1", "k2", "booking"), `{"id":"b","seq":1}`)

	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(strings.Join(out.lines(), "\n"), `"id":"b"`) {
		if time.Now().After(deadline) {
			t.Fatalf("record b never arrived: %q", out.lines())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Watch returned %v", err)
	}
	var got []string
	for _, l := range out.lines() {
		if !strings.Contains(l, "probe") {
			got = append(got, l)
		}
	}
	want := []string{`{"id":"a","seq":1}`, `{"id":"b","seq":1}`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDeduperForgetsOldest(t *testing.T) {
	d := newDeduper(2)
	for _, tc := range []struct {
		id    string
		first bool
	}{{"a", true}, {"a", false}, {"b", true}, {"c", true}, {"a", true}, {"c", false}} {
		if got := d.firstTime(tc.id); got != tc.first {
			t.Errorf("firstTime(%q) = %v, want %v", tc.id, got, tc.first)
		}
	}
}
