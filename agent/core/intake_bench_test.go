package core_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/kiosk/agent/localapi"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
)

// BenchmarkIntake is a villager's booking as the screen makes it: POST
// /v1/bookings over the unix socket, counted on its 201, by 16 and 64
// clients at once; against the same number of goroutines each committing
// one record per bbolt transaction to a plain file on the same disk. Run:
//
//	go test ./agent/core -run '^$' -bench Intake -benchtime 2000x
func BenchmarkIntake(b *testing.B) {
	for _, clients := range []int{16, 64} {
		b.Run(fmt.Sprintf("api/clients=%d", clients), func(b *testing.B) { benchAPI(b, clients) })
		b.Run(fmt.Sprintf("bolt/clients=%d", clients), func(b *testing.B) { benchBolt(b, clients) })
		b.Run(fmt.Sprintf("http/clients=%d", clients), func(b *testing.B) { benchHTTP(b, clients) })
	}
}

// benchHTTP is the ceiling the API's figure sits under on this machine: the
// same client, socket and server as benchAPI, and a handler that answers
// every booking with a fixed 201 without validating, sealing or storing it.
// On a machine whose disk syncs faster than its cores run HTTP, the
// booking path cannot be more times the baseline than this is.
func benchHTTP(b *testing.B, clients int) {
	socket := filepath.Join(b.TempDir(), "api.sock")
	ln, err := localapi.Listen(socket)
	if err != nil {
		b.Fatal(err)
	}
	answer, _ := json.Marshal(apitype.Booking{ID: "0193a3f2-0000-7000-8000-000000000000", Seq: 1, Number: "00001",
		Service: "legal-advisor", Topic: "婚姻家庭", Name: "王秀英", Phone: "138****1111", Advisor: "林律师"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		localapi.Serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var req apitype.BookingRequest
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			w.Write(answer)
		}))
		close(done)
	}()
	defer func() { cancel(); <-done }()
	c := localclient.New(socket)
	slot := time.Now().Add(24 * time.Hour).Format(time.RFC3339)
	lat := run(b, clients, func(int) error {
		_, err := c.Book(ctx, apitype.BookingRequest{Service: "legal-advisor", Topic: "婚姻家庭", Name: "王秀英",
			Phone: "13800001111", Slot: slot})
		return err
	})
	report(b, lat)
}

func benchAPI(b *testing.B, clients int) {
	k := mustServeKiosk(b)
	ctx := context.Background()
	ob, c := k.ob, k.client
	slots, err := c.Slots(ctx, "legal-advisor")
	if err != nil || len(slots.Slots) == 0 {
		b.Fatalf("slots: %v %v", slots, err)
	}
	commits := ob.Stats().Commits
	lat := run(b, clients, func(i int) error {
		_, err := c.Book(ctx, apitype.BookingRequest{Service: "legal-advisor", Topic: "婚姻家庭", Name: "王秀英",
			Phone: "13800001111", Slot: slots.Slots[i%len(slots.Slots)].Format(time.RFC3339)})
		return err
	})
	report(b, lat)
	b.ReportMetric(float64(b.N)/float64(ob.Stats().Commits-commits), "records/commit")
}

func benchBolt(b *testing.B, clients int) {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "plain.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("r")); return err })
	value := make([]byte, 700) // about a sealed booking
	lat := run(b, clients, func(int) error {
		return db.Update(func(tx *bbolt.Tx) error {
			bk := tx.Bucket([]byte("r"))
			seq, _ := bk.NextSequence()
			return bk.Put(binary.BigEndian.AppendUint64(nil, seq), value)
		})
	})
	report(b, lat)
}

// run calls op b.N times from clients goroutines and returns each call's
// latency. It reports the process's CPU time per call (user and system,
// the in-process client's included): on a 2-core kiosk the CPU, not the
// disk, bounds how many callers one commit can gather.
func run(b *testing.B, clients int, op func(i int) error) []time.Duration {
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	cpu0 := mustCPUTime(b)
	b.ResetTimer()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				start := time.Now()
				if err := op(i); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(start)
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64((mustCPUTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	return lat
}

// mustCPUTime is the CPU time this process has used so far.
func mustCPUTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func report(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
