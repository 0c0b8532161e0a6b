package tcpecho

import (
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
)

// reserveSize is how many descriptors a server keeps in reserve.
const reserveSize = 8

// fdReserve is a few descriptors the server holds so that it never runs
// out of them where running out would lose bytes: a parked connection
// takes a descriptor again, for a moment, when it resumes (net.FileConn
// duplicates its socket), and failing that it would be closed with what
// its client sent. Accept, which can wait (its clients wait in the
// listener's backlog), stops while the reserve is short; a resumption
// out of descriptors spends one and retries. Each descriptor is an
// eventfd: no file system needed, none in a scratch container.
type fdReserve struct {
	mu     sync.Mutex
	fds    []int
	held   atomic.Int32
	broken bool // the system cannot make them at all: no reserve
}

// full refills the reserve and tells whether it is full, or cannot be
// had at all (then the server goes on without one).
func (r *fdReserve) full() bool {
	if r.held.Load() >= reserveSize {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.fds) < reserveSize && !r.broken {
		fd, err := spareFd()
		if err != nil {
			if !outOfDescriptors(err) {
				r.broken = true
			}
			break
		}
		r.fds = append(r.fds, fd)
	}
	r.held.Store(int32(len(r.fds)))
	return len(r.fds) >= reserveSize || r.broken
}

// spend closes one descriptor of the reserve, so that the caller's next
// try finds one free, and reports whether there was one.
func (r *fdReserve) spend() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.fds) == 0 {
		return false
	}
	closeFd(r.fds[len(r.fds)-1])
	r.fds = r.fds[:len(r.fds)-1]
	r.held.Store(int32(len(r.fds)))
	return true
}

// release closes the reserve, when the server stops.
func (r *fdReserve) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, fd := range r.fds {
		closeFd(fd)
	}
	r.fds = nil
	r.held.Store(0)
}

// outOfDescriptors tells the errors of a process, or a system, out of
// descriptors.
func outOfDescriptors(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}
