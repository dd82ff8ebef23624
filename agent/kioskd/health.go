package kioskd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/outbox"
	"github.com/fengqiao/kiosk/agent/sdnotify"
)

// healthCheck is what each ping of systemd's watchdog stands for: the
// committer takes a request in turn (a deadlocked or disk-stuck committer
// cannot), and the local API answers a status request over its socket as
// kiosk-ui would. The status it returns is the line systemctl status shows.
func healthCheck(ob *outbox.Outbox, socket string, now func() time.Time) sdnotify.Health {
	api := localclient.New(socket)
	return func(ctx context.Context) (string, error) {
		if err := ob.Ping(ctx); err != nil {
			return "", fmt.Errorf("record store committer: %w", err)
		}
		st, err := api.Status(ctx)
		if err != nil {
			return "", fmt.Errorf("local API: %w", err)
		}
		return statusLine(st, now()), nil
	}
}

// statusLine is what a technician reads first in systemctl status: is the
// township reachable, and is anything waiting to go there.
func statusLine(st apitype.Status, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "township link %s", st.Broker.State)
	if st.Broker.State != "connected" && st.Broker.LastError != "" {
		fmt.Fprintf(&b, " (%s)", st.Broker.LastError)
	}
	fmt.Fprintf(&b, "; %d records waiting", st.Queue.Depth)
	if st.Queue.OldestAt != nil {
		fmt.Fprintf(&b, " (oldest %s)", now.Sub(*st.Queue.OldestAt).Round(time.Second))
	}
	if st.Queue.DeadLetters > 0 {
		fmt.Fprintf(&b, "; %d set aside (kioskctl outbox dead)", st.Queue.DeadLetters)
	}
	fmt.Fprintf(&b, "; card reader %s", st.IDCard.State)
	return b.String()
}
