package lifecycle

import (
	"runtime"
	"time"
)

// YieldEvery is how often at most a goroutine that waits in system calls
// (tcpecho's event loop in epoll_wait, udpecho's quiet socket in
// recvmmsg) gives its processor up for a moment. Such a goroutine never
// parks, so to the scheduler it is one goroutine running for ever, and
// after 10 ms of that the runtime's monitor thread preempts it and takes
// its processor, then polls every 20 µs for a millisecond or more as if
// work had started: some 2,000 wake-ups a second, a tenth of a busy TCP
// loop's CPU. A yield within the 10 ms makes it a fresh goroutine to the
// scheduler, for some five futex calls: every 8 ms rather than 5, a
// connection at 5,000 round trips a second made 2,000 futex calls in 3 s
// rather than 3,200 (docs/performance.md).
const YieldEvery = 8 * time.Millisecond

// Yielder yields once YieldEvery has passed since it last did. Its zero
// value yields at its first look.
type Yielder struct{ last time.Time }

// Look yields if YieldEvery has passed by now, and reports whether it
// did.
func (y *Yielder) Look(now time.Time) bool {
	if now.Sub(y.last) < YieldEvery {
		return false
	}
	y.last = now
	runtime.Gosched()
	return true
}
