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
	id, err := NewID()
	if err != nil {
		return Envelope{}, err
	}
	return NewWithID(id, src, typ, schema, body, now)
}

// NewID is a fresh record id, a UUIDv7. A producer that binds the body to
// its record (a field sealed for the township names the record's id) takes
// the id first and builds the envelope with NewWithID.
func NewID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("record: new id: %w", err)
	}
	return id.String(), nil
}

// NewWithID is New with the id given, from NewID.
func NewWithID(id string, src Source, typ, schema string, body any, now time.Time) (Envelope, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return Envelope{}, fmt.Errorf("record: encode %s body: %w", typ, err)
	}
	return Envelope{
		ID:       id,
		Kiosk:    src.Kiosk,
		Township: src.Township,
		Village:  src.Village,
		Type:     typ,
		Schema:   schema,
		TS:       now.UTC(),
		Body:     raw,
	}, nil
}
