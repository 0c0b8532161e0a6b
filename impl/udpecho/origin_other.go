//go:build !linux

package udpecho

import (
	"net"
	"net/netip"
)

// pktinfoSpace is 0: only Linux is asked for each datagram's destination.
const pktinfoSpace = 0

func askDestinations(*net.UDPConn) (asked, v6 bool) { return false, false }

func destination([]byte) (dst, from netip.Addr, ok bool) { return dst, from, false }

func answerFrom(netip.Addr, bool) []byte { return nil }
