// This file: the machine the run is on: CPUs, memory, the disk under the work dir and its fsync latency.

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type machine struct {
	CPUs      int
	CPUModel  string
	Kernel    string
	MemTotal  string
	Go        string
	Mosquitto string
	Dir       string
	FSType    string
	Device    string
	Mount     string
	MountOpts string
	Driver    string
	Fsync     latencies // write + fdatasync of 4 KiB: the least a commit costs
}

func describeMachine(dir string) (machine, error) {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Dir: dir}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	m.MemTotal = procField("/proc/meminfo", "MemTotal")
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	out, _ := exec.Command(mosquittoBinary(), "-h").CombinedOutput() // -h exits non-zero
	m.Mosquitto, _, _ = strings.Cut(string(out), "\n")
	if err := m.findMount(dir); err != nil {
		return m, err
	}
	var err error
	m.Fsync, err = measureFsync(dir, 200)
	return m, err
}

// procField returns the value of the first "key : value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAverage is the first three fields of /proc/loadavg: other work on the
// machine during the run shows up there.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// findMount finds the mount holding dir in /proc/self/mountinfo: the longest
// mount point that is a prefix of it.
func (m *machine) findMount(dir string) error {
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("mountinfo: %w", err)
	}
	best := -1
	for line := range strings.Lines(string(b)) {
		pre, post, ok := strings.Cut(strings.TrimSpace(line), " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 6 || len(g) < 2 {
			continue
		}
		mp := f[4]
		if !(dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) || len(mp) <= best {
			continue
		}
		best = len(mp)
		m.Mount, m.MountOpts, m.FSType, m.Device = mp, f[5], g[0], g[1]
		if drv, err := filepath.EvalSymlinks("/sys/dev/block/" + f[2] + "/device/driver"); err == nil {
			m.Driver = filepath.Base(drv)
		}
	}
	if best < 0 {
		return fmt.Errorf("no mount found for %s", dir)
	}
	return nil
}

// measureFsync times n write+fdatasync pairs of 4 KiB: the fixed cost of a
// commit on this disk, which is the cost group commit shares out.
func measureFsync(dir string, n int) (latencies, error) {
	f, err := os.CreateTemp(dir, "fsync-")
	if err != nil {
		return latencies{}, fmt.Errorf("fsync probe: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := bytes.Repeat([]byte{'x'}, 4096)
	var l latencies
	start := time.Now()
	for i := range n {
		t := time.Now()
		if _, err := f.WriteAt(buf, int64(i%16)*4096); err != nil {
			return l, fmt.Errorf("fsync probe: %w", err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return l, fmt.Errorf("fsync probe: %w", err)
		}
		l.add(time.Since(t))
	}
	l.finish(time.Since(start))
	return l, nil
}
