package describe

import (
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBytesIsBoundedAndShowsInvisibleBytes(t *testing.T) {
	assert.Equal(t, `"abc\x00"`, Bytes([]byte("abc\x00")))
	long := Bytes(make([]byte, 1000))
	assert.Less(t, len(long), 400)
	assert.Contains(t, long, "(1000 bytes)")
}

func TestPreview(t *testing.T) {
	assert.Equal(t, "hello\n", Preview([]byte("hello\n")))
	assert.Len(t, Preview(make([]byte, 100)), 64+len("…"))
}

func TestCauseKeepsTheErrno(t *testing.T) {
	_, err := net.Dial("tcp", "127.0.0.1:1")
	assert.Equal(t, "connection refused", Cause(err).Error())
	assert.ErrorIs(t, Cause(err), syscall.ECONNREFUSED)
}
