// This file: CPU and memory of the processes during a drain.

package main

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cpuUse is CPU time (user + system) used during a span of wall time.
type cpuUse struct {
	Sender, Broker, Self time.Duration // Sender: kioskd, or the baseline publisher
	Wall                 time.Duration
}

// Cores is how many CPUs the three were keeping busy on average.
func (c cpuUse) Cores() float64 {
	return ratio((c.Sender + c.Broker + c.Self).Seconds(), c.Wall.Seconds())
}

type cpuClock struct {
	sender, broker int
	at             time.Time
	start          cpuUse
}

// startCPU starts measuring the CPU time of the sender (kioskd or the baseline
// publisher), of mosquitto and of this program (the subscriber).
func startCPU(sender, broker int) *cpuClock {
	c := &cpuClock{sender: sender, broker: broker}
	c.start, c.at = c.now(), time.Now()
	return c
}

func (c *cpuClock) now() cpuUse {
	return cpuUse{Sender: procCPU(c.sender), Broker: procCPU(c.broker), Self: selfCPU()}
}

func (c *cpuClock) read() cpuUse {
	n := c.now()
	return cpuUse{Sender: n.Sender - c.start.Sender, Broker: n.Broker - c.start.Broker, Self: n.Self - c.start.Self,
		Wall: time.Since(c.at)}
}

// procCPU reads utime + stime from /proc/PID/stat, in clock ticks of 10 ms
// (USER_HZ is 100 on every Linux this runs on).
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields after it do not.
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const sampleEvery = 20 * time.Millisecond

type memSample struct {
	At              time.Time
	RSS, Anon, File int64 // bytes; VmRSS = RssAnon + RssFile + RssShmem
}

// readMem reads a process's resident memory from /proc/PID/status.
func readMem(pid int) (memSample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memSample{}, err
	}
	s := memSample{At: time.Now()}
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		kb, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			s.RSS = kb << 10
		case "RssAnon":
			s.Anon = kb << 10
		case "RssFile":
			s.File = kb << 10
		}
	}
	return s, nil
}

type sampler struct {
	quit    chan struct{}
	done    chan struct{}
	samples []memSample
	once    sync.Once
}

// startSampler reads the process's memory every interval, starting at once.
func startSampler(pid int, every time.Duration) *sampler {
	s := &sampler{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if m, err := readMem(pid); err == nil {
				s.samples = append(s.samples, m)
			}
			select {
			case <-s.quit:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) stop() []memSample {
	s.once.Do(func() { close(s.quit) })
	<-s.done
	return s.samples
}

// writeMemSeries keeps kioskd's memory samples next to its log (-keep keeps
// them), for finding what a peak lines up with.
func writeMemSeries(path string, samples []memSample, up time.Time) error {
	var b strings.Builder
	b.WriteString("ms_since_api\trss_kib\tanon_kib\tfile_kib\n")
	for _, m := range samples {
		fmt.Fprintf(&b, "%d\t%d\t%d\t%d\n", m.At.Sub(up).Milliseconds(), m.RSS>>10, m.Anon>>10, m.File>>10)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func summarizeMem(samples []memSample, up time.Time, k *kioskdResult) {
	if len(samples) == 0 {
		return
	}
	k.MemStart, k.MemEnd = samples[0], samples[len(samples)-1]
	k.MemMax = slices.MaxFunc(samples, func(a, b memSample) int { return cmp.Compare(a.RSS, b.RSS) })
	k.MemMaxAt = k.MemMax.At.Sub(up)
}
