// This file: the processes a run starts: mosquitto (through the shared launcher) and kioskd.

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/fengqiao/kiosk/agent/internal/tstest/child"
	"github.com/fengqiao/kiosk/agent/internal/tstest/mosquitto"
	"github.com/fengqiao/kiosk/agent/localclient"
)

// proc is a child process (tstest/child: killed should this program die
// without stopping it).
type proc struct {
	*child.Process
}

func (p *proc) pid() int           { return p.Pid() }
func (p *proc) exited() bool       { return p.Exited() }
func (p *proc) started() time.Time { return p.Started() }

// stop asks the process to end (SIGTERM) and kills it if it has not within 10 s.
func (p *proc) stop() { p.Terminate(10 * time.Second) }

// mosquittoBinary is mosquitto's path for the machine description, or its
// usual path when it is missing (the run then fails at the first broker).
func mosquittoBinary() string {
	if p, err := mosquitto.Binary(); err == nil {
		return p
	}
	return "/usr/sbin/mosquitto"
}

// startProc starts cmd with its output to the file logPath.
func startProc(cmd *exec.Cmd, logPath string) (*proc, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	c, err := child.Start(cmd, func() { log.Close() })
	if err != nil {
		log.Close()
		return nil, err
	}
	return &proc{c}, nil
}

// broker is the township's mosquitto in a measured run.
type broker struct {
	*mosquitto.Process
	url string
}

func (b *broker) stop()    { b.Terminate() }
func (b *broker) pid() int { return b.Pid() }

// startBroker runs a fresh mosquitto on a free loopback port, with the
// settings every broker under test has (mosquitto.TestSettings): nothing
// persisted, and unbounded queues toward a slow subscriber so that the
// broker never drops a record and blames the sender. Its log is
// dir/mosquitto.log.
func startBroker(ctx context.Context, dir string) (*broker, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	port, err := mosquitto.FreePort()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "mosquitto.log"))
	if err != nil {
		return nil, err
	}
	defer log.Close() // the broker has its own descriptor
	probe := mosquitto.DialProbe(port)
	p, err := mosquitto.Start(mosquitto.Options{Dir: dir, Output: log,
		Config: mosquitto.PlainListener(port) + mosquitto.TestSettings(""),
		Probe: func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return probe()
		}})
	if err != nil {
		return nil, fmt.Errorf("%w (see %s/mosquitto.log)", err, dir)
	}
	return &broker{Process: p, url: fmt.Sprintf("tcp://127.0.0.1:%d", port)}, nil
}

type daemon struct {
	*proc
	socket  string
	logPath string
}

func startKioskd(root, bin, dataDir, brokerURL, logPath string) (*daemon, error) {
	return startKioskdWith(bin, filepath.Join(root, devConfig), dataDir, brokerURL, logPath)
}

func startKioskdWith(bin, config, dataDir, brokerURL, logPath string) (*daemon, error) {
	socket := filepath.Join(dataDir, "kioskd.sock")
	cmd := exec.Command(bin, "--config", config, "--data", dataDir,
		"--socket", socket, "--broker", brokerURL)
	p, err := startProc(cmd, logPath)
	if err != nil {
		return nil, err
	}
	return &daemon{proc: p, socket: socket, logPath: logPath}, nil
}

// explain adds to err how kioskd ended, if it did, and the end of its log:
// the work dir and the log with it are gone once the program exits.
func (d *daemon) explain(err error) error {
	select {
	case <-d.Done():
		err = fmt.Errorf("%w; kioskd exited: %v", err, d.Err())
	case <-time.After(time.Second):
	}
	b, _ := os.ReadFile(d.logPath)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return fmt.Errorf("%w; kioskd's last log lines:\n%s", err, strings.Join(lines[max(0, len(lines)-5):], "\n"))
}

// waitAPI returns when kioskd's API first answers: the store is open and the
// link starts draining.
func (d *daemon) waitAPI(ctx context.Context, limit time.Duration) (time.Time, error) {
	c := localclient.New(d.socket)
	deadline := time.Now().Add(limit)
	for {
		if _, err := c.Status(ctx); err == nil {
			return time.Now(), nil
		}
		if d.exited() {
			return time.Time{}, d.explain(errors.New("kioskd exited before its API came up"))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return time.Time{}, fmt.Errorf("kioskd API did not come up within %v (see %s)", limit, d.logPath)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitDepth0 polls /v1/status until the queue is empty: every record acked by
// the broker and the ack committed.
func (d *daemon) waitDepth0(ctx context.Context, up time.Time, limit time.Duration) (time.Duration, int, error) {
	c := localclient.New(d.socket)
	deadline := up.Add(limit)
	for {
		st, err := c.Status(ctx)
		if err != nil {
			return 0, 0, d.explain(fmt.Errorf("status: %w", err))
		}
		if st.Queue.Depth == 0 {
			return time.Since(up), st.Queue.DeadLetters, nil
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("queue still holds %d records after %v (see %s)", st.Queue.Depth, limit, d.logPath)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
