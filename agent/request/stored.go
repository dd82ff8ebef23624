package request

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Table is the outbox kept table a request's local status lives in, keyed
// by its record's seq (the number is that seq).
const Table = "requests"

// storedVersion is the stored form's version. A later kiosk reads every
// earlier one; an earlier kiosk refuses a later one (ErrNewerStored)
// rather than drop what it does not know.
const storedVersion = 1

// ErrNewerStored means a status was written by a newer kioskd.
var ErrNewerStored = errors.New("request: stored status is from a newer kioskd")

// Stored statuses. Only StatusSubmitted is set at the kiosk; the others
// come with the township's answers (issue 20 item 2, docs/requests.md).
const (
	StatusSubmitted  = "submitted"   // 已提交，待受理
	StatusAccepted   = "accepted"    // 已受理
	StatusInProgress = "in_progress" // 办理中
	StatusClosed     = "closed"      // 已办结
	StatusReferred   = "referred"    // 已转交
)

// Stored is a request's local status as the kiosk keeps it, sealed in the
// outbox's kept table. It keeps what the villager's check shows and what
// proves the villager may see it, as keyed hashes (Keys), never the name,
// phone, ID number or check code.
type Stored struct {
	V         int       `json:"v"`
	ID        string    `json:"id"` // the request/v1 record's id
	Created   time.Time `json:"created"`
	Kind      string    `json:"kind"`
	KindName  string    `json:"kind_name"`
	Category  string    `json:"category"`
	CatName   string    `json:"category_name"`
	Phrases   []string  `json:"phrases"`
	Place     string    `json:"place,omitempty"` // the place's name
	Anonymous bool      `json:"anonymous,omitempty"`
	// Number is an anonymous report's receipt number, random (core's
	// newAnonymousNumber), since its seq would date it; "" for every other
	// request, whose number is its seq. Added after version 1 was stored.
	Number string `json:"number,omitempty"`
	Photo  bool   `json:"photo,omitempty"`
	// CardKey finds a card holder's requests (Keys.Card); PhoneProof and
	// CodeProof check a proof (Keys.Proof). Each empty when not given.
	CardKey    string `json:"card_key,omitempty"`
	PhoneProof string `json:"phone_proof,omitempty"`
	CodeProof  string `json:"code_proof,omitempty"`

	// The township's side, which item 2 updates: the status, the version
	// of the last change applied (0: none yet), its reply and time.
	Status  string    `json:"status"`
	Version uint64    `json:"version"`
	Reply   string    `json:"reply,omitempty"`
	Updated time.Time `json:"updated,omitzero"`
	// By is the office that answered, To the one it referred the request
	// to; Closed when it was closed (zero while it is not), for the time
	// to close (事件办结率, issue 20 item 4). Added after version 1 was
	// stored: absent in older entries, which read as not answered.
	By     string    `json:"by,omitempty"`
	To     string    `json:"to,omitempty"`
	Closed time.Time `json:"closed,omitzero"`
}

// Encode is the stored bytes of s, at the current version.
func (s Stored) Encode() ([]byte, error) {
	s.V = storedVersion
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("request: encode stored status: %w", err)
	}
	return b, nil
}

// DecodeStored reads a stored status of any version up to this kiosk's.
func DecodeStored(b []byte) (Stored, error) {
	var s Stored
	if err := json.Unmarshal(b, &s); err != nil {
		return Stored{}, fmt.Errorf("request: decode stored status: %w", err)
	}
	if s.V > storedVersion {
		return Stored{}, fmt.Errorf("%w: version %d", ErrNewerStored, s.V)
	}
	return s, nil
}
