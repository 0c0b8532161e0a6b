package tcpecho

import "golang.org/x/sys/unix"

func spareFd() (int, error) { return unix.Eventfd(0, unix.EFD_CLOEXEC) }

func closeFd(fd int) { unix.Close(fd) }
