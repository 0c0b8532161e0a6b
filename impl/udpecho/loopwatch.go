package udpecho

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"hash/maphash"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// The loop watch ends a loop between this server and another echo service
// that the guard's rules let form: one on another port above 1023. From
// the server's side such a loop looks like a client that sends the same
// datagram again and again, as fast as the answers come: as echobench and
// fortio do with a constant payload. So a source that sends the same
// payload loopRun times in a row is probed: a datagram no client sent,
// from another port of the address its datagrams came to. A client's
// connected socket never sees it (the kernel drops what comes from
// another port), and an unconnected client ignores a datagram it did not
// ask for; an echo service sends it back. Only then is the source
// refused, for blockFor, which ends the loop: each forged datagram in it
// is dropped once. A source that did not echo the probe is not probed
// again for quietFor. Counted in datagrams, not time, a loop ends after
// the same number of turns however fast it runs.
const (
	watchSlots  = 256 // sources watched at once; more share slots
	loopRun     = 256
	probeWait   = time.Second      // how long a probe's echo may take
	blockFor    = time.Second      // how long a source found in a loop is refused
	quietFor    = 10 * time.Second // how long a source that did not echo a probe is not probed again
	maxProbes   = 4                // probes in flight at once
	hashedBytes = 256              // a payload's prefix that tells runs apart
)

// loopWatch is owned by Serve's goroutine; only its probes run elsewhere
// and report through their own atomic result.
type loopWatch struct {
	seed    maphash.Seed
	slots   [watchSlots]watchSlot
	probes  atomic.Int32
	ctx     context.Context
	running *sync.WaitGroup
}

type watchSlot struct {
	src          netip.AddrPort
	sum          uint64 // the run's payload
	run          uint32 // how many in a row
	quietUntil   time.Time
	blockedUntil time.Time
	probe        *probe
}

// probe's results.
const (
	probing int32 = iota
	notALoop
	aLoop
)

type probe struct{ result atomic.Int32 }

// probeResult is what the slot's source did with the last probe: notALoop
// once it has been let go, probing while one is out.
func (s *watchSlot) probeResult() int32 {
	if s.probe == nil {
		if s.quietUntil.IsZero() {
			return probing
		}
		return notALoop
	}
	return s.probe.result.Load()
}

func (w *loopWatch) init(ctx context.Context, running *sync.WaitGroup) {
	w.seed, w.ctx, w.running = maphash.MakeSeed(), ctx, running
}

// check returns ErrLoop when d's source is in a loop with this server.
func (w *loopWatch) check(d *datagram) error {
	if w.ctx == nil {
		return nil
	}
	s := &w.slots[slotOf(d.src)]
	if s.src != d.src {
		*s = watchSlot{src: d.src}
	}
	if !s.blockedUntil.IsZero() {
		if time.Now().Before(s.blockedUntil) {
			return ErrLoop
		}
		s.blockedUntil = time.Time{}
	}
	if s.probe != nil {
		switch s.probe.result.Load() {
		case aLoop:
			s.probe, s.blockedUntil = nil, time.Now().Add(blockFor)
			return ErrLoop
		case notALoop:
			s.probe, s.quietUntil = nil, time.Now().Add(quietFor)
		}
	}
	p := d.payload
	if sum := maphash.Bytes(w.seed, p[:min(len(p), hashedBytes)]) ^ uint64(len(p)); sum != s.sum {
		s.sum, s.run = sum, 0
	}
	s.run++
	if s.run%loopRun == 0 && s.probe == nil && time.Now().After(s.quietUntil) {
		s.probe = w.startProbe(d.src, d.local)
	}
	return nil
}

// slotOf spreads sources over the slots.
func slotOf(src netip.AddrPort) int {
	a := src.Addr().As16()
	h := uint32(src.Port())
	for _, b := range a[12:] {
		h = h*31 + uint32(b)
	}
	return int(h % watchSlots)
}

// startProbe sends src a probe from another port of local and waits for
// its echo on its own goroutine; nil when too many probes are out.
func (w *loopWatch) startProbe(src, local netip.AddrPort) *probe {
	if w.probes.Add(1) > maxProbes {
		w.probes.Add(-1)
		return nil
	}
	p := &probe{}
	w.running.Go(func() {
		defer w.probes.Add(-1)
		if echoes(w.ctx, src, local) {
			p.result.Store(aLoop)
		} else {
			p.result.Store(notALoop)
		}
	})
	return p
}

// echoes tells whether src sends back a datagram it was sent from a new
// socket on local's address within probeWait.
func echoes(ctx context.Context, src, local netip.AddrPort) bool {
	laddr := &net.UDPAddr{}
	if a := local.Addr().Unmap(); a.IsValid() && !a.IsUnspecified() {
		laddr.IP = a.AsSlice()
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return false
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(aLongTimeAgo) })
	defer stop()
	var nonce [8]byte
	rand.Read(nonce[:])
	msg := []byte("echospec loop probe " + hex.EncodeToString(nonce[:]))
	to := netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	if _, err := conn.WriteToUDPAddrPort(msg, to); err != nil {
		return false
	}
	conn.SetReadDeadline(time.Now().Add(probeWait))
	buf := make([]byte, len(msg)+1)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return false
		}
		if netip.AddrPortFrom(from.Addr().Unmap(), from.Port()) == to && bytes.Equal(buf[:n], msg) {
			return true
		}
	}
}
