package ops

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// slots bounds the admin endpoint's connections without letting anyone
// lock it out: a client that opens maxAdminConns keep-alive connections
// and leaves them idle would, behind a plain limit, keep every probe out
// for the idle timeout, and a kubelet or balancer would take the server
// for dead. So a connection over the bound is always accepted, and takes
// the slot of the connection idle longest (between requests, or opened
// and silent); only when every slot serves a request is it closed at once.
// The http.Server tells what each connection is doing through ConnState.
type slots struct {
	net.Listener
	max int

	mu    sync.Mutex
	conns map[net.Conn]slot
}

type slot struct {
	state http.ConnState
	since time.Time
}

func newSlots(l net.Listener, limit int) *slots {
	return &slots{Listener: l, max: limit, conns: make(map[net.Conn]slot, limit)}
}

// Accept returns the next connection, making room for it first.
func (s *slots) Accept() (net.Conn, error) {
	for {
		c, err := s.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if s.admit(c) {
			return c, nil
		}
		c.Close()
	}
}

// admit takes a slot for c, closing the connection that waited longest
// without a request in progress if none is free; false when every slot
// serves a request.
func (s *slots) admit(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) >= s.max {
		victim := s.longestWaiting()
		if victim == nil {
			return false
		}
		delete(s.conns, victim)
		victim.Close()
	}
	s.conns[c] = slot{state: http.StateNew, since: time.Now()}
	return true
}

// longestWaiting is the connection that has waited longest for a request:
// idle between requests, or new with none yet; nil if none waits.
func (s *slots) longestWaiting() net.Conn {
	var victim net.Conn
	var since time.Time
	for c, sl := range s.conns {
		if sl.state != http.StateIdle && sl.state != http.StateNew {
			continue
		}
		if victim == nil || sl.since.Before(since) {
			victim, since = c, sl.since
		}
	}
	return victim
}

// ConnState is the http.Server's hook: it keeps each slot's state.
func (s *slots) ConnState(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch state {
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	case http.StateNew:
		// admit took the slot; the server says so again.
	default:
		if _, ok := s.conns[c]; ok {
			s.conns[c] = slot{state: state, since: time.Now()}
		}
	}
}
