package idcardsim

import (
	"fmt"
	"os"
	"syscall"

	"github.com/creack/pty"
)

// PTY is a pseudo-terminal pair for a simulated reader: the simulator serves
// the master, and Path (the slave) is what kioskd or a tool opens as if it
// were /dev/ttyUSB0.
type PTY struct {
	Path   string
	Master *os.File
	slave  *os.File
}

// OpenPTY opens a pair. It keeps the slave open itself, because a pty whose
// slave has no open descriptor answers the master's reads with EIO, and the
// simulator would stop before kioskd ever opened the port.
func OpenPTY() (*PTY, error) {
	m, s, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("idcardsim: open pty (is /dev/ptmx there?): %w", err)
	}
	// creack/pty leaves the master in blocking mode, where Close cannot
	// interrupt a pending Read; a non-blocking duplicate goes through Go's
	// poller, where it can.
	fd, err := syscall.Dup(int(m.Fd()))
	m.Close()
	if err == nil {
		err = syscall.SetNonblock(fd, true)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("idcardsim: pty master: %w", err)
	}
	return &PTY{Path: s.Name(), Master: os.NewFile(uintptr(fd), "/dev/ptmx"), slave: s}, nil
}

// Close closes both ends: to whoever holds the slave, the reader is unplugged.
func (p *PTY) Close() error {
	p.slave.Close()
	return p.Master.Close()
}
