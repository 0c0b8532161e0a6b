package tcpecho

import "time"

// lazyDeadline keeps a deadline a timeout after the last progress without
// moving the runtime's timer for every read or write: it is moved only
// when it has fallen behind by an eighth of the timeout, and when that
// early deadline fires, expired checks the real time since the progress.
// It only keeps the times: its caller sets the deadline it says.
type lazyDeadline struct {
	since time.Time // the last progress
	at    time.Time // the deadline set
}

// arm moves the deadline if it has fallen far enough behind, and reports
// whether it did: then at is to be set.
func (d *lazyDeadline) arm(timeout time.Duration) bool {
	if want := d.since.Add(timeout); want.Sub(d.at) > timeout/8 {
		d.at = want
		return true
	}
	return false
}

// expired tells whether the whole timeout has passed since the progress,
// at now; if not, it moves the deadline to when it will have, and at is
// to be set.
func (d *lazyDeadline) expired(now time.Time, timeout time.Duration) bool {
	want := d.since.Add(timeout)
	if now.Before(want) {
		d.at = want
		return false
	}
	return true
}

// ticks is how many times per WriteTimeout a write that waits looks
// whether its client took any bytes: the timeout holds to this fraction.
const ticks = 20

// writeClock is the write timeout's bookkeeping: since when the client
// has taken nothing of its echo. The write timeout counts from the last
// time the client took bytes, not from the start of the write: a client
// that reads slowly but steadily is served, one that stopped reading is
// let go a WriteTimeout after it took its last byte.
type writeClock struct {
	wd lazyDeadline // the write deadline, kept across writes so it stays lazy
	// When the window the client offers was last looked at, and its right
	// edge then (acknowledged bytes plus the room offered: see windowEdge).
	lastLook time.Time
	lastEdge uint64
	// waitCap is the capacity of the buffer an echo being written comes
	// from: what the connection holds while the client is slow to take it.
	waitCap int
}

// look says, at now, whether to look at what the client has acknowledged
// (seesAcks: the driver can). Unforced, it looks at most ticks times per
// timeout, so that a busy connection pays a system call per tick, not per
// echo. Where acknowledgements cannot be seen, each write counts as taken.
func (w *writeClock) look(now time.Time, force, seesAcks bool, timeout time.Duration) bool {
	if w.wd.since.IsZero() {
		w.wd.since = now
	}
	if !seesAcks {
		if !force {
			w.wd.since = now
		}
		return false
	}
	if !force && now.Sub(w.lastLook) < timeout/ticks {
		return false
	}
	w.lastLook = now
	return true
}

// looked takes what the look found: the client has taken bytes if the
// window's edge moved.
func (w *writeClock) looked(now time.Time, edge uint64, ok bool) {
	if ok && edge != w.lastEdge {
		w.lastEdge = edge
		w.wd.since = now
	}
}

// tick returns the write deadline for the next look, or the timeout's end
// if that comes first.
func (w *writeClock) tick(now time.Time, timeout time.Duration) time.Time {
	next := min(w.wd.since.Add(timeout).UnixNano(), now.Add(timeout/ticks).UnixNano())
	w.wd.at = time.Unix(0, next)
	return w.wd.at
}

// timedOut tells whether the client has taken nothing for the timeout.
func (w *writeClock) timedOut(now time.Time, timeout time.Duration) bool {
	return now.Sub(w.wd.since) >= timeout
}
