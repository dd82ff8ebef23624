package township

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fengqiao/kiosk/agent/bundle"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
	"github.com/fengqiao/kiosk/agent/record"
	"github.com/fengqiao/kiosk/agent/request"
	"github.com/fengqiao/kiosk/agent/schema"
)

// The township's requests, until it has a database (the next issue: a web
// console). kioskctl keeps them in a state directory, one file per
// request as the kiosk published it (its phone still sealed: opened only
// on display, with the records key), the last answer signed for it, and
// each kiosk's report on its answers:
//
//	DIR/{township}/{kiosk}/{number}.record.json   the request/v1 record
//	DIR/{township}/{kiosk}/{number}.answer.json   the last answer signed (Answer)
//	DIR/{township}/{kiosk}/reported.json          requests-reported/v1
//
// Records reach it through a persistent MQTT session (SyncRequests): the
// broker keeps the records published while kioskctl is not running, so
// each sync collects what came since the last.

// Errors of the requests' state.
var (
	// ErrNoRequest means the state directory has no such request: not
	// synced yet, or a typo.
	ErrNoRequest = errors.New("township: no such request in the state directory (run township requests sync)")
	// ErrNotNewer means an answer's version is not above the last signed
	// for its request: the kiosk would refuse it as a replay or older.
	ErrNotNewer = errors.New("township: answer version not above the last signed for that request")
	// ErrNotOurs means a message on the requests' topics is not a request
	// record or a report, or not the kiosk's whose topic it came on: set
	// aside, not kept.
	ErrNotOurs = errors.New("township: not a request record or answers report of that topic's kiosk")
)

// Request is what the township knows of one request.
type Request struct {
	Township string
	Kiosk    string
	Number   uint64
	Record   record.Envelope
	Body     schema.RequestV1
	// Answer is the last answer signed for it (nil: none yet), Applied the
	// version the kiosk last reported in force (0: none, or no report).
	Answer  *Answer
	Applied uint64
}

// Ref is how a clerk names a request: KIOSK/NUMBER (dev-kiosk-01/00042).
func (r Request) Ref() string { return r.Kiosk + "/" + numberText(r.Number) }

// Status is the request's status as last answered, "submitted" before.
func (r Request) Status() string {
	if r.Answer == nil {
		return request.StatusSubmitted
	}
	return r.Answer.Change.Status
}

// Answer is an answer signed and published: the change, its version and
// the envelope, kept so the next answer is signed above it.
type Answer struct {
	Version  uint64          `json:"version"`
	Change   request.Change  `json:"change"`
	Envelope json.RawMessage `json:"envelope"`
}

// numberText is a request's number as the kiosk prints it: 00042.
func numberText(n uint64) string { return fmt.Sprintf("%05d", n) }

// ParseRef reads KIOSK/NUMBER.
func ParseRef(ref string) (kiosk string, number uint64, err error) {
	k, num, ok := strings.Cut(ref, "/")
	n, nerr := strconv.ParseUint(num, 10, 64)
	if !ok || k == "" || nerr != nil || n == 0 {
		return "", 0, fmt.Errorf("township: %q is not KIOSK/NUMBER (dev-kiosk-01/00042)", ref)
	}
	return k, n, nil
}

// RequestStore is the state directory.
type RequestStore struct{ Dir string }

func (s RequestStore) kioskDir(township, kiosk string) string {
	return filepath.Join(s.Dir, township, kiosk)
}

// validLevel keeps a topic level from naming a path outside the store.
func validLevel(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`)
}

// PutRecord keeps a request/v1 record received from the broker on topic;
// false when it was kept already (a redelivery). The record must name the
// kiosk and township of its topic: the broker's ACL lets a kiosk publish
// only under its own id, so that is what vouches for the record.
func (s RequestStore) PutRecord(topic string, payload []byte) (bool, error) {
	var env record.Envelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return false, fmt.Errorf("%w: %w", ErrNotOurs, err)
	}
	if env.Type != schema.RequestType || env.Seq == 0 || !validLevel(env.Township) || !validLevel(env.Kiosk) ||
		topic != mqtttopic.Record(env.Township, env.Kiosk, schema.RequestType) {
		return false, fmt.Errorf("%w: a %q record of %s/%s on %s", ErrNotOurs, env.Type, env.Township, env.Kiosk, topic)
	}
	dir := s.kioskDir(env.Township, env.Kiosk)
	path := filepath.Join(dir, numberText(env.Seq)+".record.json")
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("township: %w", err)
	}
	if err := bundle.WriteFileAtomic(path, payload, 0o600); err != nil {
		return false, fmt.Errorf("township: keep request: %w", err)
	}
	return true, nil
}

// PutReported keeps a kiosk's requests-reported/v1, received on topic.
func (s RequestStore) PutReported(topic string, payload []byte) error {
	var r request.Reported
	if err := json.Unmarshal(payload, &r); err != nil || r.Schema != request.ReportedSchema || !validLevel(r.Township) || !validLevel(r.Kiosk) ||
		topic != mqtttopic.RequestsReported(r.Township, r.Kiosk) {
		return fmt.Errorf("%w: not a %s report of the kiosk of %s", ErrNotOurs, request.ReportedSchema, topic)
	}
	dir := s.kioskDir(r.Township, r.Kiosk)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("township: %w", err)
	}
	return bundle.WriteFileAtomic(filepath.Join(dir, "reported.json"), payload, 0o600)
}

// PutAnswer keeps the answer just signed, refusing one whose version is
// not above the last (ErrNotNewer).
func (s RequestStore) PutAnswer(township, kiosk string, a Answer) error {
	r, err := s.Get(township, kiosk, a.Change.Seq)
	if err != nil {
		return err
	}
	if r.Answer != nil && a.Version <= r.Answer.Version {
		return fmt.Errorf("%w: %d, last %d", ErrNotNewer, a.Version, r.Answer.Version)
	}
	data, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return fmt.Errorf("township: %w", err)
	}
	return bundle.WriteFileAtomic(filepath.Join(s.kioskDir(township, kiosk), numberText(a.Change.Seq)+".answer.json"), data, 0o600)
}

// Get reads one request.
func (s RequestStore) Get(township, kiosk string, number uint64) (Request, error) {
	if !validLevel(township) || !validLevel(kiosk) {
		return Request{}, fmt.Errorf("%w: %s/%s", ErrNoRequest, kiosk, numberText(number))
	}
	dir := s.kioskDir(township, kiosk)
	data, err := os.ReadFile(filepath.Join(dir, numberText(number)+".record.json"))
	if errors.Is(err, os.ErrNotExist) {
		return Request{}, fmt.Errorf("%w: %s/%s", ErrNoRequest, kiosk, numberText(number))
	}
	if err != nil {
		return Request{}, fmt.Errorf("township: %w", err)
	}
	r := Request{Township: township, Kiosk: kiosk, Number: number}
	if err := json.Unmarshal(data, &r.Record); err != nil {
		return Request{}, fmt.Errorf("township: request %s/%s: %w", kiosk, numberText(number), err)
	}
	if err := json.Unmarshal(r.Record.Body, &r.Body); err != nil {
		return Request{}, fmt.Errorf("township: request %s/%s: %w", kiosk, numberText(number), err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, numberText(number)+".answer.json")); err == nil {
		var a Answer
		if err := json.Unmarshal(data, &a); err != nil {
			return Request{}, fmt.Errorf("township: answer to %s/%s: %w", kiosk, numberText(number), err)
		}
		r.Answer = &a
	}
	if data, err := os.ReadFile(filepath.Join(dir, "reported.json")); err == nil {
		var rep request.Reported
		if json.Unmarshal(data, &rep) == nil {
			r.Applied = rep.Answered[numberText(number)]
		}
	}
	return r, nil
}

// List reads every request of township, oldest first by kiosk and number.
func (s RequestStore) List(township string) ([]Request, error) {
	kiosks, err := os.ReadDir(filepath.Join(s.Dir, township))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("township: %w", err)
	}
	var out []Request
	for _, k := range kiosks {
		if !k.IsDir() {
			continue
		}
		files, err := os.ReadDir(s.kioskDir(township, k.Name()))
		if err != nil {
			return nil, fmt.Errorf("township: %w", err)
		}
		for _, f := range files {
			num, ok := strings.CutSuffix(f.Name(), ".record.json")
			if !ok {
				continue
			}
			n, err := strconv.ParseUint(num, 10, 64)
			if err != nil {
				continue
			}
			r, err := s.Get(township, k.Name(), n)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Request) int {
		if c := strings.Compare(a.Kiosk, b.Kiosk); c != 0 {
			return c
		}
		return cmp.Compare(a.Number, b.Number)
	})
	return out, nil
}

// SyncOptions configure SyncRequests.
type SyncOptions struct {
	Conn     Conn
	Township string
	// Wait is how long to collect: the broker sends what it kept for the
	// session right after connecting, and the retained reports after
	// subscribing.
	Wait time.Duration
	Log  *slog.Logger
}

// SyncRequests collects into the store the request records published
// since the last sync, and the kiosks' reports on the answers. Its MQTT
// session is persistent (clean session off, a client id per township and
// state directory, Conn.ClientID), so the broker queues the records (QoS
// 1) while no sync runs; the first sync creates the session and sees only
// what comes after it. It returns how many requests were new.
func SyncRequests(ctx context.Context, store RequestStore, opts SyncOptions) (int, error) {
	if opts.Conn.ClientID == "" {
		return 0, errors.New("township: a requests sync needs a fixed client id (its persistent session)")
	}
	var mu sync.Mutex
	var fresh int
	var firstErr error
	handle := func(_ mqtt.Client, m mqtt.Message) {
		mu.Lock()
		defer mu.Unlock()
		var err error
		switch {
		case strings.HasSuffix(m.Topic(), "/requests/reported"):
			err = store.PutReported(m.Topic(), m.Payload())
		case strings.HasSuffix(m.Topic(), "/records/request"):
			var added bool
			added, err = store.PutRecord(m.Topic(), m.Payload())
			if added {
				fresh++
			}
		default:
			return
		}
		if err != nil {
			opts.Log.Warn("message not kept", "topic", m.Topic(), "err", err)
			if firstErr == nil && !errors.Is(err, ErrNotOurs) {
				firstErr = err // a disk that cannot be written, not a stray message
			}
		}
	}
	o := mqtt.NewClientOptions().AddBroker(opts.Conn.Broker).SetClientID(opts.Conn.ClientID).SetCleanSession(false).
		SetAutoReconnect(false).SetConnectTimeout(10 * time.Second).SetOrderMatters(true).
		SetDefaultPublishHandler(handle) // what the session kept arrives before any Subscribe returns
	if opts.Conn.TLS != nil {
		o.SetTLSConfig(opts.Conn.TLS)
	}
	cl := mqtt.NewClient(o)
	if err := await(ctx, cl.Connect(), "connect "+opts.Conn.Broker); err != nil {
		return 0, err
	}
	defer cl.Disconnect(250)
	for _, topic := range []string{mqtttopic.RequestRecords(opts.Township), mqtttopic.RequestsReports(opts.Township)} {
		if err := await(ctx, cl.Subscribe(topic, 1, handle), "subscribe "+topic); err != nil {
			return 0, err
		}
	}
	select {
	case <-time.After(opts.Wait):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	return fresh, firstErr
}
