package localapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// ErrInUse means another process is already serving on the socket path.
var ErrInUse = errors.New("localapi: socket is in use by another process")

// SocketMode lets the kiosk's user and group in and nobody else.
const SocketMode = 0o660

// Listen opens the unix socket at path, replacing a stale socket left by a
// crash but never one that another live kioskd is serving on.
func Listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("localapi: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("localapi: %s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("%w: %s", ErrInUse, path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("localapi: remove stale socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("localapi: listen %s: %w", path, err)
	}
	if err := os.Chmod(path, SocketMode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("localapi: chmod %s: %w", path, err)
	}
	return ln, nil
}

// ShutdownTimeout bounds how long Serve waits for requests in flight when ctx
// ends. A booking in flight finishes its commit within it.
const ShutdownTimeout = 3 * time.Second

// Serve answers requests on ln until ctx is done, then shuts down gracefully.
// It returns ctx.Err() after a clean shutdown.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// Requests see ctx end at shutdown, so long-polls for card events
		// return at once instead of holding the stop for ShutdownTimeout. A
		// booking already handed to the outbox still finishes its commit.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("localapi: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("localapi: shutdown: %w", err)
	}
	return ctx.Err()
}
