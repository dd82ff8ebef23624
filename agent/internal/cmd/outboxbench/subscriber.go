// This file: the township subscriber that counts what arrives.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fengqiao/kiosk/agent/mqtttopic"
)

// township counts distinct record ids arriving on every kiosk's records topic.
type township struct {
	client mqtt.Client
	want   int
	all    chan struct{}

	mu    sync.Mutex
	seen  map[string]struct{}
	dups  int
	first time.Time
	last  time.Time // when the last new id arrived
}

func subscribe(brokerURL string, want int) (*township, error) {
	t := &township{want: want, all: make(chan struct{}), seen: make(map[string]struct{}, want)}
	t.client = mqtt.NewClient(mqtt.NewClientOptions().AddBroker(brokerURL).SetClientID("outboxbench-township").
		SetCleanSession(true).SetAutoReconnect(false))
	if err := waitToken(t.client.Connect(), 10*time.Second); err != nil {
		return nil, fmt.Errorf("subscriber connect: %w", err)
	}
	if err := waitToken(t.client.Subscribe(mqtttopic.Records(""), 1, t.receive), 10*time.Second); err != nil {
		t.client.Disconnect(0)
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	return t, nil
}

// receive runs on paho's dispatch goroutine, one message at a time.
func (t *township) receive(_ mqtt.Client, m mqtt.Message) {
	now := time.Now()
	id, ok := envelopeID(m.Payload())
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.first.IsZero() {
		t.first = now
	}
	if _, ok := t.seen[id]; ok {
		t.dups++
		return
	}
	t.seen[id] = struct{}{}
	t.last = now
	if len(t.seen) == t.want {
		close(t.all)
	}
}

// envelopeID returns a record's id. json.Marshal writes the id first, so a
// prefix match finds it without decoding the envelope: the subscriber shares
// the CPUs with the sender it measures and must cost as little as it can.
func envelopeID(p []byte) (string, bool) {
	if rest, ok := bytes.CutPrefix(p, []byte(`{"id":"`)); ok {
		if i := bytes.IndexByte(rest, '"'); i > 0 {
			return string(rest[:i]), true
		}
	}
	var env struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(p, &env) != nil || env.ID == "" {
		return "", false
	}
	return env.ID, true
}

// wait waits until every record has arrived or limit passes, and returns the
// time of the last new arrival since start, the distinct count and duplicates.
func (t *township) wait(ctx context.Context, start time.Time, limit time.Duration) (time.Duration, int, int) {
	select {
	case <-t.all:
	case <-time.After(limit):
	case <-ctx.Done():
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last.Sub(start), len(t.seen), t.dups
}

func (t *township) firstAt() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.first
}

func (t *township) close() { t.client.Disconnect(250) }
