// Package ratelog bounds how often a repeated event is logged, so that a
// flood of it cannot flood the log, while counting what it kept quiet.
package ratelog

import (
	"sync"
	"time"
)

// DefaultEvery is the interval of a Limiter whose Every is zero.
const DefaultEvery = time.Second

// A Limiter allows one log line per interval. Its zero value allows one a
// second and is safe for concurrent use.
type Limiter struct {
	// Every is the shortest time between two log lines.
	Every time.Duration

	mu      sync.Mutex
	last    time.Time
	skipped int
}

// Allow reports whether an occurrence at now may be logged, and how many
// occurrences were not logged since the last one that was.
func (l *Limiter) Allow(now time.Time) (ok bool, skipped int) {
	every := l.Every
	if every == 0 {
		every = DefaultEvery
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < every {
		l.skipped++
		return false, 0
	}
	skipped, l.skipped = l.skipped, 0
	l.last = now
	return true, skipped
}

// Skipped returns how many occurrences were not logged since the last one
// that was, and forgets them: for a last report when the flood is over.
func (l *Limiter) Skipped() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.skipped
	l.skipped = 0
	return n
}
