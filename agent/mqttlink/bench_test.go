package mqttlink

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquittotest"
	"github.com/fengqiao/kiosk/agent/mqtttopic"
)

// drainRecords is the backlog each benchmark iteration drains: large enough
// that a window's start and end are a small part of it.
const drainRecords = 20000

// BenchmarkDrain drains a backlog of booking-sized records through a link to
// a real mosquitto; BenchmarkDrainPlainPaho publishes as many payloads of the
// same size with paho alone, the way make bench's baseline does. Their ratio
// (and -cpuprofile) is the quick view of what the store and the link add;
// make bench gives the figures of record, with kioskd as its own process.
func BenchmarkDrain(b *testing.B) {
	broker := mosquittotest.Start(b)
	b.ReportAllocs()
	var cpu cpuMeter
	for b.Loop() {
		b.StopTimer()
		o := mustOutbox(b, 5)
		for range drainRecords {
			mustEnqueue(b, o, "booking", 300)
		}
		b.StartTimer()
		stopProfile := mustProfileDrain(b)
		cpu.start()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		l := New(benchOptions(broker.URL), o)
		go func() { done <- l.Run(ctx) }()
		heapAt := drainRecords / 2
		for o.Depth() > 0 {
			if o.Depth() < heapAt {
				mustProfileHeap(b)
				heapAt = -1
			}
			time.Sleep(time.Millisecond)
		}
		cpu.stop()
		stopProfile()
		b.StopTimer()
		cancel()
		<-done
		o.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(drainRecords*b.N)/b.Elapsed().Seconds(), "records/s")
	cpu.report(b, drainRecords*b.N)
}

func BenchmarkDrainPlainPaho(b *testing.B) {
	broker := mosquittotest.Start(b)
	payload := make([]byte, 435)
	topic := mqtttopic.Record(src.Township, src.Kiosk, "booking")
	b.ReportAllocs()
	var cpu cpuMeter
	for i := 0; b.Loop(); i++ {
		c, err := broker.Connect(b, nil, fmt.Sprintf("plain%d", i))
		if err != nil {
			b.Fatal(err)
		}
		cpu.start()
		toks := make([]mqtt.Token, 0, drainRecords)
		for range drainRecords {
			toks = append(toks, c.Publish(topic, 1, false, payload))
		}
		for _, t := range toks {
			t.Wait()
		}
		cpu.stop()
		c.Disconnect(0)
	}
	b.ReportMetric(float64(drainRecords*b.N)/b.Elapsed().Seconds(), "records/s")
	cpu.report(b, drainRecords*b.N)
}

// mustProfileDrain profiles the CPU while a backlog drains, not while it is
// filled, when FENGQIAO_DRAIN_CPUPROFILE names a directory (-test.cpuprofile
// would mix in the enqueues): a profile per drain, for go tool pprof to merge.
func mustProfileDrain(b *testing.B) (stop func()) {
	dir := os.Getenv("FENGQIAO_DRAIN_CPUPROFILE")
	if dir == "" {
		return func() {}
	}
	f, err := os.CreateTemp(dir, "drain-*.pprof")
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuMeter sums this process's CPU time (user + system) over the timed
// parts: on a two-core board the drain shares the CPUs with the broker, so
// CPU per record, not wall time, is what the publisher costs.
type cpuMeter struct {
	total, begun time.Duration
}

func (m *cpuMeter) start() { m.begun = processCPU() }
func (m *cpuMeter) stop()  { m.total += processCPU() - m.begun }

func (m *cpuMeter) report(b *testing.B, records int) {
	b.ReportMetric(float64(m.total.Microseconds())/float64(records), "cpu-µs/record")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// mustProfileHeap writes the live heap halfway through a drain when
// FENGQIAO_DRAIN_HEAPPROFILE names a file: what the window holds.
func mustProfileHeap(b *testing.B) {
	path := os.Getenv("FENGQIAO_DRAIN_HEAPPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

func benchOptions(broker string) Options {
	o := testOptions(broker)
	if w, err := strconv.Atoi(os.Getenv("FENGQIAO_DRAIN_WINDOW")); err == nil {
		o.Window = w
	}
	return o
}
