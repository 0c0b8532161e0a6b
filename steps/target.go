package steps

import (
	"context"
	"errors"
	"fmt"
)

// Mode says what kind of echo service the scenarios run against.
type Mode string

// The modes.
const (
	// Library starts the servers in-process from impl/ and drives the
	// clients as Go values: the fastest, and the default.
	Library Mode = "library"
	// Process starts the binaries as processes, on free loopback ports,
	// and runs the clients as processes where a scenario is about a
	// client; servers report through their -events stream.
	Process Mode = "process"
	// Conformance runs the @rfc862 scenarios against a service at an
	// address someone gives, which need not be ours.
	Conformance Mode = "conformance"
)

// largestIPv4Datagram is the largest payload one IPv4 UDP datagram holds:
// 65535 bytes less the IP and UDP headers.
const largestIPv4Datagram = 65507

// Target is what the scenarios of one run talk to.
type Target struct {
	Mode Mode
	// Bin is the folder holding tcpserver, tcpclient, udpserver and
	// udpclient, for Process mode.
	Bin string
	// TCP and UDP are the addresses of the service under test in
	// Conformance mode; a protocol without one has its scenarios skipped.
	TCP, UDP string
	// MaxDatagram is the size of "the largest datagram" that scenarios
	// send; 0 means the largest an IPv4 datagram holds, 65507 bytes. A
	// conformance run may lower it for a service whose documentation
	// gives a smaller limit; the run says so.
	MaxDatagram int
}

type targetKey struct{}

// WithTarget returns a context for godog.Options.DefaultContext that makes
// the scenarios run against t.
func WithTarget(ctx context.Context, t Target) context.Context {
	return context.WithValue(ctx, targetKey{}, t)
}

func targetFrom(ctx context.Context) Target {
	t, _ := ctx.Value(targetKey{}).(Target)
	if t.Mode == "" {
		t.Mode = Library
	}
	if t.MaxDatagram == 0 {
		t.MaxDatagram = largestIPv4Datagram
	}
	return t
}

// Check says what is wrong with t, if anything.
func (t Target) Check() error {
	switch t.Mode {
	case "", Library:
	case Process:
		if t.Bin == "" {
			return errors.New("process mode needs the folder of the binaries (-echo.bin)")
		}
	case Conformance:
		if t.TCP == "" && t.UDP == "" {
			return errors.New("conformance mode needs the address of a TCP or a UDP echo service (-echo.tcp, -echo.udp)")
		}
	default:
		return fmt.Errorf("mode %q is none of library, process, conformance", t.Mode)
	}
	if t.MaxDatagram < 0 || t.MaxDatagram > largestIPv4Datagram {
		return fmt.Errorf("the largest datagram must be from 1 to %d bytes, not %d", largestIPv4Datagram, t.MaxDatagram)
	}
	return nil
}
