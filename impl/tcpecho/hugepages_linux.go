package tcpecho

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePageSize is the size of a transparent huge page on amd64 and arm64.
const hugePageSize = 2 << 20

// preferHugePages asks the kernel to back the 2 MiB-aligned middle of a
// large new buffer with huge pages: a long line held whole touches every
// page of its buffer once, and in a virtual machine a fault per 4 KiB page
// cost more than the reads that filled it. Where transparent huge pages
// are off, or the advice fails, nothing changes.
func preferHugePages(b []byte) {
	if len(b) < 2*hugePageSize {
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	first := (start + hugePageSize - 1) &^ (hugePageSize - 1)
	last := (start + uintptr(len(b))) &^ (hugePageSize - 1)
	if last <= first {
		return
	}
	unix.Madvise(b[first-start:last-start], unix.MADV_HUGEPAGE)
}
