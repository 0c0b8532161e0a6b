package tcpecho

import (
	"context"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/echospec/echo/internal/testpeer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEchoRejectsANewlineInsideALine(t *testing.T) {
	addr, _ := start(t, &Server{Framing: FramingLine})
	c, err := (&Dialer{Framing: FramingLine}).Dial(context.Background(), addr)
	require.NoError(t, err)
	defer c.Abort()
	_, err = c.Echo([]byte("two\nlines"))
	require.ErrorIs(t, err, ErrNewlineInMessage)
	got, err := c.Echo([]byte("one line\n"))
	require.NoError(t, err, "a message that already ends in a newline is sent as it is")
	assert.Equal(t, "one line\n", string(got))
}

func TestEchoReportsAServerThatClosesEarly(t *testing.T) {
	addr := testpeer.OneConn(t, func(c net.Conn) {
		buf := make([]byte, 3)
		io.ReadFull(c, buf)
		c.Write(buf[:2])
	})
	c, err := (&Dialer{Framing: FramingLine}).Dial(context.Background(), addr)
	require.NoError(t, err)
	defer c.Abort()
	_, err = c.Echo([]byte("ab"))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Contains(t, err.Error(), "after 2 of 3 echoed bytes")
}

func TestDialErrorsNameTheAddressAndTheCause(t *testing.T) {
	addr := testpeer.Refusing(t)
	_, err := Dial(context.Background(), addr)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Equal(t, "connect to "+addr+": connection refused", err.Error())
}

func TestTimeoutErrorSaysWhatWasMissing(t *testing.T) {
	addr := testpeer.OneConn(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	c, err := (&Dialer{Framing: FramingLine, Timeout: 50 * time.Millisecond}).Dial(context.Background(), addr)
	require.NoError(t, err)
	defer c.Abort()
	_, err = c.Echo([]byte("hi"))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.Contains(t, err.Error(), "got 0 of 3 bytes")
}
