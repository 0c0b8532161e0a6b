//go:build linux || darwin

package main

import "syscall"

// roomForConnections raises the open-file limit to hold n connections of
// the baseline, whose io.Copy splices through a pipe: three descriptors a
// connection. It raises the hard limit too where allowed (as root), and
// says what it got.
func roomForConnections(n uint64) uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	want := max(rl.Cur, 3*n+64)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: max(want, rl.Max)}); err != nil {
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: rl.Max, Max: rl.Max})
	}
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	return rl.Cur
}
