// This file: the HTTP ceiling of section 5. The same client and socket as
// the intake rows, against kioskd's own API handler in a process of its
// own, whose agent answers every booking at once with a fixed booking:
// nothing validated, sealed or stored. No booking path can go faster than
// this on the machine, so the ratio it reaches says how much room the
// goals leave once two processes share the CPUs.

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
)

// fixedAPICmd is the hidden subcommand that serves the ceiling.
const fixedAPICmd = "fixed-api"

// fixedAgent is an agent that answers a booking without doing any of it.
// Only Book is served; the API's other endpoints are not asked for.
type fixedAgent struct{ localapi.Agent }

func (fixedAgent) Book(context.Context, apitype.BookingRequest) (apitype.Booking, error) {
	return apitype.Booking{ID: "0193a3f2-0000-7000-8000-000000000000", Seq: 1, Number: "00001",
		Service: "legal-advisor", Topic: "婚姻家庭", Name: "测试村民", Phone: "138****0000", Advisor: "林律师"}, nil
}

// fixedAPI serves kioskd's API handler over fixedAgent on the socket in
// args[0] until SIGTERM, with kioskd's listener and server settings.
func fixedAPI(args []string) int {
	if len(args) != 1 {
		fmt.Fprintf(os.Stderr, "usage: outboxbench %s SOCKET\n", fixedAPICmd)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ln, err := localapi.Listen(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	h := localapi.NewHandler(fixedAgent{}, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := localapi.Serve(ctx, ln, h); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// ceilingServer is the fixed API's process, and its client.
type ceilingServer struct {
	*proc
	client *localclient.Client
}

func startCeiling(ctx context.Context, dir string) (*ceilingServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	socket := filepath.Join(dir, "fixed-api.sock")
	p, err := startProc(exec.Command(exe, fixedAPICmd, socket), filepath.Join(dir, "fixed-api.log"))
	if err != nil {
		return nil, fmt.Errorf("fixed API: %w", err)
	}
	c := localclient.New(socket)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := c.Book(ctx, apitype.BookingRequest{}); err == nil {
			return &ceilingServer{proc: p, client: c}, nil
		} else if time.Now().After(deadline) || p.exited() {
			p.stop()
			return nil, fmt.Errorf("fixed API did not answer: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
