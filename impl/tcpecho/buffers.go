package tcpecho

import "sync"

// pooledSize is the size of the buffers connections borrow while data
// flows: large enough that a stream takes few system calls, and returned
// as soon as the connection waits again.
const pooledSize = 64 << 10

var buffers = sync.Pool{New: func() any { b := make([]byte, pooledSize); return &b }}

// getBuffer returns a buffer of at least size bytes, from the pool when
// one of those is large enough.
func getBuffer(size int) []byte {
	if size > pooledSize {
		return make([]byte, size)
	}
	return *buffers.Get().(*[]byte)
}

// putBuffer gives a buffer back to the pool, if it came from there.
func putBuffer(b []byte) {
	if cap(b) == pooledSize {
		b = b[:pooledSize]
		buffers.Put(&b)
	}
}

// growBuffer returns a larger buffer, at most limit, holding b's bytes:
// for a line longer than a pooled buffer.
func growBuffer(b []byte, limit int) []byte {
	grown := make([]byte, grownSize(len(b), limit))
	preferHugePages(grown)
	copy(grown, b)
	putBuffer(b)
	return grown
}

// grownSize is the size a full buffer of n bytes grows to: four times as
// large, at most limit. Four, not two: a long line that trickles in costs
// half the allocations, copies and fresh pages, and the MaxHeld budget,
// not the growth factor, bounds what long lines hold in all.
func grownSize(n, limit int) int { return min(4*n, limit) }
