// Package lifecycle is what tcpecho's and udpecho's servers share about
// stopping: the moment closing begins, which every accept or read checks
// and every wait can select on, and the backoff after a failure that a
// later try may not have (out of file descriptors, a read that failed).
package lifecycle

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echospec/echo/internal/describe"
)

// Closing says whether a server has begun to close. Its zero value is
// open.
type Closing struct {
	begun atomic.Bool
	once  sync.Once
	done  chan struct{}
}

func (c *Closing) init() { c.once.Do(func() { c.done = make(chan struct{}) }) }

// Begin marks closing as begun and wakes every waiter on Done; it
// reports whether this call did it.
func (c *Closing) Begin() bool {
	c.init()
	if c.begun.Swap(true) {
		return false
	}
	close(c.done)
	return true
}

// Begun reports whether closing has begun: one atomic load, for hot
// paths.
func (c *Closing) Begun() bool { return c.begun.Load() }

// Done is closed once closing has begun.
func (c *Closing) Done() <-chan struct{} {
	c.init()
	return c.done
}

// Backoff is how long to wait after a failure before trying again: 5 ms,
// doubling each time, up to a second, as net/http waits after a failed
// accept; Reset after a success. Its zero value has waited for nothing.
type Backoff time.Duration

// Next lengthens the wait and returns it.
func (b *Backoff) Next() time.Duration {
	*b = Backoff(min(max(2*time.Duration(*b), 5*time.Millisecond), time.Second))
	return time.Duration(*b)
}

// Reset starts over after a success.
func (b *Backoff) Reset() { *b = 0 }

// Sleep waits for d, or until done is closed.
func Sleep(d time.Duration, done <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-done:
	}
}

// Listen opens what a server's ListenAndServe serves, with listen (such
// as net.Listen or net.ListenPacket), unless closing has begun, when it
// returns closed (the server's ErrServerClosed); any other error names
// the address and says why in words a user reads.
func Listen[L any](c *Closing, closed error, listen func(network, addr string) (L, error), network, addr string) (L, error) {
	var zero L
	if c.Begun() {
		return zero, closed
	}
	l, err := listen(network, addr)
	if err != nil {
		return zero, fmt.Errorf("listen on %s: %w", addr, describe.Cause(err))
	}
	return l, nil
}
