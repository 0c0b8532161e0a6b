//go:build !linux

package echobench

import "syscall"

// recvErrors does nothing where the kernel has no IP_RECVERR.
func recvErrors(string, string, syscall.RawConn) error { return nil }
