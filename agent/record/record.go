// Package record owns the envelope every kiosk record travels in, from the agent
// core through the outbox to the township: its fields, its JSON form and how a
// new one gets its id.
//
// The envelope is the contract with the township (docs/mqtt.md): id is a UUIDv7
// so ids sort by creation time across kiosks; seq is per kiosk, assigned by the
// outbox when the record is committed, and never reused, so the township can
// detect gaps and drop duplicates.
package record

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Source says which kiosk a record comes from.
type Source struct {
	Kiosk    string
	Township string
	Village  string
}

// Envelope is one record as stored and as published.
type Envelope struct {
	ID       string          `json:"id"`
	Seq      uint64          `json:"seq"`
	Kiosk    string          `json:"kiosk"`
	Township string          `json:"township"`
	Village  string          `json:"village"`
	Type     string          `json:"type"`
	Schema   string          `json:"schema"`
	TS       time.Time       `json:"ts"`
	Body     json.RawMessage `json:"body"`
}

// New wraps body in an envelope with a fresh UUIDv7. Seq is left zero: the
// outbox assigns it inside the transaction that makes the record durable.
func New(src Source, typ, schema string, body any, now time.Time) (Envelope, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return Envelope{}, fmt.Errorf("record: encode %s body: %w", typ, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Envelope{}, fmt.Errorf("record: new id: %w", err)
	}
	return Envelope{
		ID:       id.String(),
		Kiosk:    src.Kiosk,
		Township: src.Township,
		Village:  src.Village,
		Type:     typ,
		Schema:   schema,
		TS:       now.UTC(),
		Body:     raw,
	}, nil
}
