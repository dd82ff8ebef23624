// Package child runs the child processes of tests and of the benchmark
// command (brokers, kioskd, a baseline publisher) the one way they must all
// be run: killed should the parent die without stopping them, so that a
// crashed run leaves nothing holding a port or a store; waited for by one
// goroutine, so that "has it exited?" never blocks; and stopped as systemd
// stops a service, SIGTERM and then SIGKILL after a grace period.
package child

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Process is a started child.
type Process struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	err     error // cmd.Wait's, once done is closed
	once    sync.Once
}

// Start starts cmd, which must not have been started, and calls onExit (if
// not nil) once it has exited and been waited for: the place to close the
// files it wrote to.
func Start(cmd *exec.Cmd, onExit func()) (*Process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	p := &Process{cmd: cmd, done: make(chan struct{}), started: time.Now()}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", filepath.Base(cmd.Path), err)
	}
	go func() {
		p.err = cmd.Wait()
		if onExit != nil {
			onExit()
		}
		close(p.done)
	}()
	return p, nil
}

// Pid is the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Started is when the child was started.
func (p *Process) Started() time.Time { return p.started }

// Done is closed once the child has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the child exited (cmd.Wait's error); nil until Done.
func (p *Process) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// State is the child's exit state, or "running".
func (p *Process) State() string {
	if !p.Exited() {
		return "running"
	}
	return p.cmd.ProcessState.String()
}

// Exited reports whether the child has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Terminate sends SIGTERM, waits up to grace, then kills the child, and
// returns once it has exited. Later calls, and calls after Kill, do nothing.
func (p *Process) Terminate(grace time.Duration) {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// Signal sends sig to the child, if it is still running.
func (p *Process) Signal(sig os.Signal) {
	if !p.Exited() {
		p.cmd.Process.Signal(sig)
	}
}

// Kill sends SIGKILL, as a power cut would, and returns once the child has
// exited.
func (p *Process) Kill() {
	p.once.Do(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
}
