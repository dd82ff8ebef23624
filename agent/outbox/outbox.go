// Package outbox owns the kiosk's durable queue of records waiting to reach the
// township: it assigns each record its per-kiosk sequence number, commits it to a
// bbolt file before anyone is told it exists, and hands records to the publisher
// oldest first until the broker has acknowledged them.
//
// The rule the whole kiosk relies on: Enqueue returns only after the record is on
// disk (bbolt fsyncs on commit), so a villager is never shown a booking number
// for a record that a power cut could take back. Concurrent Enqueue and Ack calls
// share one transaction and one fsync (group commit), which is what lets a
// kiosk on an SD card keep up with bursts and drain a days-long backlog quickly.
//
// Beyond the queue itself the outbox keeps disk use bounded (a byte quota;
// telemetry is evicted oldest first, governance records are refused rather
// than dropped), sets aside records that cannot be delivered (dead letters),
// encrypts every stored record with the kiosk's key, shrinks its file after a
// backlog drains, and survives a corrupt file by moving it aside.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/kiosk/agent/record"
)

// Errors returned by the outbox. Callers compare with errors.Is.
var (
	// ErrLocked means another process (usually a second kioskd) holds the store.
	ErrLocked = errors.New("outbox: store is locked by another process")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("outbox: closed")
	// ErrQuotaFull means the record does not fit in the store's byte quota even
	// after evicting every evictable record. Nothing was stored; the queue must
	// drain to the township first.
	ErrQuotaFull = errors.New("outbox: storage quota reached")
	// ErrDiskFull means the file system is out of space (ENOSPC). Nothing was
	// stored.
	ErrDiskFull = errors.New("outbox: disk full")
	// ErrCorrupt marks damage found in the store: at Open it causes the file
	// to be moved aside; on one record it sends that record to dead letters.
	ErrCorrupt = errors.New("outbox: store is corrupt")
	// ErrBadKey means the key is malformed or is not the one the store was
	// written with. Open refuses to start rather than lose the records.
	ErrBadKey = errors.New("outbox: wrong or malformed key")
	// ErrNotFound is returned by Requeue for a seq that is not a dead letter.
	ErrNotFound = errors.New("outbox: no such record")
)

// Class decides what happens to a record when the store is at its quota.
type Class uint8

const (
	// Governance records (bookings, mediation, alerts) are never evicted. At
	// the quota new ones are refused with ErrQuotaFull, which the villager sees.
	Governance Class = iota
	// Evictable records (telemetry, logs) make room for newer ones, oldest first.
	Evictable
)

// ClassOf maps a record type to its class. Unknown types are governance: a
// type nobody classified is kept, not silently dropped.
func ClassOf(recordType string) Class {
	switch recordType {
	case "telemetry", "log":
		return Evictable
	}
	return Governance
}

// Defaults for Options.
const (
	DefaultQuota       = 256 << 20
	DefaultMaxAttempts = 5
)

// Options configure Open.
type Options struct {
	Path string // the bbolt file
	// Key is the AES-256 key every record is sealed with (LoadOrCreateKey).
	Key []byte
	// Quota bounds the bytes of stored records, queued and dead.
	Quota int64
	// MaxAttempts is how many failed deliveries move a record to dead letters.
	MaxAttempts int
	// Child starts a child process of this program with args, whose main
	// routes them to ChildMain. The full check of the store and the salvage
	// of a damaged one run there, since bbolt can crash the process that
	// reads a damaged file. Nil: neither runs (tests of other packages).
	Child func(args ...string) *exec.Cmd
	// CheckEvery is how often the whole store is checked when every
	// shutdown was clean (DefaultCheckEvery). After an unclean one it is
	// checked at once, in the background.
	CheckEvery time.Duration
	Log        *slog.Logger
	Now        func() time.Time
}

// Item is a committed record waiting for delivery.
type Item struct {
	Seq       uint64
	Type      string
	Committed time.Time
	Payload   []byte // the envelope as JSON, exactly as it will be published
	Attempts  int    // failed deliveries so far
	// Err is set instead of Payload when the stored value cannot be read (it
	// does not decrypt, or is damaged); the publisher dead-letters such items.
	Err error
}

// Stats describe the queue for /v1/status and telemetry.
type Stats struct {
	Depth        int
	Bytes        int64 // stored bytes, queued and dead
	Quota        int64
	Oldest       time.Time // commit time of the oldest queued record; zero if none
	DeadLetters  int
	LastDelivery time.Time // zero if nothing was ever delivered
	Evicted      uint64    // evictable records dropped at the quota, ever
	FileBytes    int64     // the store's size on disk
	// Commits is the write transactions committed since Open: with the
	// records enqueued, how many records each fsync carried.
	Commits uint64
}

// DeadLetter is a record set aside because it could not be delivered.
type DeadLetter struct {
	Seq      uint64    `json:"seq"`
	Type     string    `json:"type"`
	Reason   string    `json:"reason"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// Recovery reports a store that was found damaged and moved aside.
type Recovery struct {
	MovedTo string
	Reason  string
	Found   string // "at open" or "by the background check"
	// Salvaged records were read back from the old store and will still be
	// delivered; Unreadable ones were read but did not authenticate.
	Salvaged, Unreadable int
}

// Outbox is the durable queue. It is safe for concurrent use.
type Outbox struct {
	opts   Options
	log    *slog.Logger
	seal   *sealer
	reqs   chan *request
	quit   chan struct{}
	done   chan struct{}
	ready  chan struct{}
	closed sync.Once

	// dbMu guards db itself: readers hold it shared, compaction swaps the
	// file under it exclusively. Writes all happen on the committer goroutine.
	dbMu sync.RWMutex
	db   *bbolt.DB

	stMu  sync.Mutex
	st    state
	lease uint64 // seqs up to here are reserved in the lease file

	file    *os.File // the store file bbolt opened, handed to the check child
	mapSize int      // the memory map the store was opened with

	recoveries chan Recovery      // damaged stores moved aside, once salvage is done
	bg         sync.WaitGroup     // the background check and salvage
	checkDone  chan struct{}      // closed when the owed check is over (or none was owed)
	checking   atomic.Bool        // a check child is reading the file: do not compact
	checkOwed  atomic.Bool        // a full check is due and has not passed yet
	rewind     atomic.Bool        // salvaged records went in below the publisher: Peek from the start
	replacing  atomic.Bool        // a damaged store is being replaced
	stopCheck  context.CancelFunc // ends the background check early
	lastDrop   atomic.Int64       // when Peek last gave mapped pages back (unix ns)
	ctx        context.Context    // cancelled by Close
	commits    atomic.Uint64      // write transactions committed (Stats.Commits)
}

// state is what the committer keeps in memory about the store.
type state struct {
	depth        int
	bytes        int64
	dead         int
	lastDelivery time.Time
	evicted      uint64
	broken       error // set when the store can no longer be used
}

// Open opens or creates the store, in about the same time whatever its size:
// it reads the meta and freelist pages, not the records. A file that bbolt
// cannot open is moved aside and replaced by an empty store, and what can be
// read from it is salvaged in the background; Recoveries reports it so the
// caller can raise an alert. When a full check is owed (see livecheck.go) it
// runs in the background while the store serves.
func Open(opts Options) (*Outbox, error) {
	if opts.Quota <= 0 {
		opts.Quota = DefaultQuota
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s, err := newSealer(opts.Key)
	if err != nil {
		return nil, err
	}
	o := &Outbox{
		opts: opts, log: opts.Log, seal: s,
		reqs: make(chan *request), quit: make(chan struct{}), done: make(chan struct{}),
		ready: make(chan struct{}, 1),
	}
	os.Remove(opts.Path + compactSuffix) // a compaction cut short by a crash
	if opts.CheckEvery <= 0 {
		opts.CheckEvery = DefaultCheckEvery
	}
	o.opts = opts
	o.recoveries = make(chan Recovery, 4)
	o.checkDone = make(chan struct{})
	var size int64
	if fi, err := os.Stat(opts.Path); err == nil {
		size = fi.Size()
	}
	o.mapSize = mapSizeFor(size, opts.Quota)
	// Open does not read the whole file (see livecheck.go): bbolt opens it
	// from its meta and freelist pages, and the counters come from meta.
	// Damage bbolt sees that soon is handled here; the rest is the
	// background check's.
	var rec *Recovery
	err = o.openAndPrepare()
	if errors.Is(err, ErrCorrupt) {
		if rec, err = moveAside(opts.Path, opts.Now(), err); err == nil {
			err = o.openAndPrepare()
		}
	}
	if err != nil {
		return nil, err
	}
	due, why := o.checkDue(size > 0)
	o.checkOwed.Store(due)
	o.markOpen()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-o.quit; cancel() }()
	o.ctx = ctx
	o.stopCheck = func() {}
	switch {
	case rec != nil:
		rec.Found = "at open"
		o.log.Error("store was corrupt; moved aside and started a new one", "moved_to", rec.MovedTo, "reason", rec.Reason)
		o.checkOwed.Store(false)
		close(o.checkDone)
		o.bg.Add(1)
		go func() { defer o.bg.Done(); o.salvageInto(ctx, rec) }()
	case due && opts.Child != nil:
		o.bg.Add(1)
		checkCtx, stop := context.WithCancel(ctx)
		o.stopCheck = stop
		go o.backgroundCheck(checkCtx, why)
	default:
		close(o.checkDone)
	}
	if o.st.depth > 0 {
		o.signal()
	}
	go o.commitLoop()
	o.log.Info("outbox opened", "path", opts.Path, "pending", o.st.depth, "dead_letters", o.st.dead, "bytes", o.st.bytes)
	return o, nil
}

// Recoveries receives a report for each damaged store moved aside, at Open
// or later by the background check, once its records have been salvaged.
// kioskd raises an alert for each.
func (o *Outbox) Recoveries() <-chan Recovery { return o.recoveries }

// CheckDone is closed once the full check owed at Open is over, passed or
// not (at once if none was owed).
func (o *Outbox) CheckDone() <-chan struct{} { return o.checkDone }

// openAndPrepare opens the store file and loads its counters.
func (o *Outbox) openAndPrepare() error {
	db, err := openBolt(o.opts.Path, o.mapSize, &o.file)
	if err != nil {
		return err
	}
	o.db = db
	if err := protect(o.prepare); err != nil {
		db.Close()
		return err
	}
	return nil
}

// Enqueue assigns env its sequence number and commits it. It returns the
// envelope as stored once the commit has reached the disk.
//
// Each of tallies (e.g. "bookings/legal-advisor") is counted up by one in
// the same transaction: a count kept with the record it counts costs no
// commit of its own and cannot drift from the records if the power goes.
func (o *Outbox) Enqueue(ctx context.Context, env record.Envelope, tallies ...string) (record.Envelope, error) {
	// Encode here, on the caller's goroutine, where producers encode in
	// parallel; the committer only splices the seq in (see splitAtSeq).
	env.Seq = 0
	raw, err := record.Encode(env)
	if err != nil {
		return record.Envelope{}, fmt.Errorf("outbox: encode %s record: %w", env.Type, err)
	}
	req := newRequest()
	*req = request{op: opEnqueue, env: env, encoded: raw, tallies: tallies, done: req.done}
	r, err := o.do(ctx, req)
	putRequest(req)
	return r.env, err
}

// requests are reused by Enqueue, with their done channels: a booking
// allocated a request and a channel for its result on its way through.
var requests = sync.Pool{New: func() any { return &request{done: make(chan result, 1)} }}

func newRequest() *request { return requests.Get().(*request) }

// putRequest returns r once its result has been received: the committer
// no longer looks at a request it has answered. Pings may be abandoned
// before they are answered, so they never come here.
func putRequest(r *request) {
	*r = request{done: r.done}
	requests.Put(r)
}

// EnqueueAll commits envs in one transaction, with consecutive seqs: all of
// them, or none (at the quota, say). A mediation session and the escalation
// it raises go together this way, at the cost of one commit.
func (o *Outbox) EnqueueAll(ctx context.Context, envs []record.Envelope, tallies ...string) ([]record.Envelope, error) {
	encoded := make([][]byte, len(envs))
	for i := range envs {
		envs[i].Seq = 0
		var err error
		if encoded[i], err = record.Encode(envs[i]); err != nil {
			return nil, fmt.Errorf("outbox: encode %s record: %w", envs[i].Type, err)
		}
	}
	r, err := o.do(ctx, &request{op: opEnqueueAll, envs: envs, encodeds: encoded, tallies: tallies})
	return r.envs, err
}

// Ack removes delivered records. Acking an unknown seq is not an error: a
// record can be delivered twice, and the second ack has nothing to do.
func (o *Outbox) Ack(seqs ...uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	_, err := o.do(context.Background(), &request{op: opAck, seqs: seqs})
	return err
}

// Fail records a failed delivery of seq. After MaxAttempts failures, or at
// once when permanent, the record moves to dead letters and dead is true.
func (o *Outbox) Fail(seq uint64, reason string, permanent bool) (dead bool, err error) {
	r, err := o.do(context.Background(), &request{op: opFail, seqs: []uint64{seq}, reason: reason, permanent: permanent})
	return r.dead, err
}

// Requeue moves a dead letter back into the queue, for a technician who has
// fixed the cause. It keeps its seq, so it is published next.
func (o *Outbox) Requeue(seq uint64) error {
	_, err := o.do(context.Background(), &request{op: opRequeue, seqs: []uint64{seq}})
	return err
}

// Ping passes through the committer and returns once it has been answered
// in turn, after any commit ahead of it: it fails (by ctx) when the
// committer is stuck, e.g. on a disk that no longer completes writes. Alone
// it costs no transaction. kioskd's watchdog check calls it.
func (o *Outbox) Ping(ctx context.Context) error {
	r := &request{op: opPing}
	if err := o.handOver(ctx, r); err != nil {
		return err
	}
	// Unlike a write, a ping may be abandoned once handed over: done is
	// buffered, and nothing is stored either way.
	select {
	case res := <-r.done:
		return res.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (o *Outbox) do(ctx context.Context, r *request) (result, error) {
	if err := o.handOver(ctx, r); err != nil {
		return result{}, err
	}
	// reqs is unbuffered: a send succeeds only into a running committer, and
	// callers blocked in send are exactly the ones the next batch collects.
	// Once handed over, the request is committed or failed by the committer;
	// waiting for it regardless of ctx keeps "returned an error" meaning "not
	// stored" for the caller.
	res := <-r.done
	return res, res.err
}

// handOver gives r to the committer.
func (o *Outbox) handOver(ctx context.Context, r *request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.done == nil {
		r.done = make(chan result, 1)
	}
	select {
	case o.reqs <- r:
		return nil
	case <-o.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Ready receives a value whenever records may be waiting. The publisher waits
// on it instead of polling the disk.
func (o *Outbox) Ready() <-chan struct{} { return o.ready }

func (o *Outbox) signal() {
	select {
	case o.ready <- struct{}{}:
	default:
	}
}

// Depth is the number of records not yet acknowledged by the township broker.
func (o *Outbox) Depth() int {
	o.stMu.Lock()
	defer o.stMu.Unlock()
	return o.st.depth
}

// Close stops the committer and closes the store. Requests not yet handed to
// the committer fail with ErrClosed; everything committed stays on disk.
func (o *Outbox) Close() error {
	var err error
	o.closed.Do(func() {
		close(o.quit)
		<-o.done
		o.bg.Wait()
		o.dbMu.Lock()
		defer o.dbMu.Unlock()
		if e := o.db.Close(); e != nil {
			err = fmt.Errorf("outbox: close: %w", e)
			return
		}
		o.markClosed()
	})
	return err
}
