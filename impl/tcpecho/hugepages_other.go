//go:build !linux

package tcpecho

func preferHugePages([]byte) {}
