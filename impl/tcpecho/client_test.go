package tcpecho

import (
	"context"
	"crypto/tls"
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

// A TLS client of a plain echo gets its own ClientHello back: the error
// says the server did not answer in TLS, not which handshake message came.
func TestTLSAgainstAPlainEchoSaysSo(t *testing.T) {
	addr, _ := start(t, &Server{})
	_, err := (&Dialer{TLSConfig: &tls.Config{InsecureSkipVerify: true}}).Dial(context.Background(), addr)
	require.ErrorIs(t, err, ErrHandshake)
	assert.Contains(t, err.Error(), "the server at "+addr+" did not answer in TLS: is it a plain echo?")
}

// A connection over the server's limit is reset as soon as it is made: the
// error says what that may mean.
func TestAResetBeforeTheFirstEchoSaysTheLimitMayBeReached(t *testing.T) {
	addr, _ := start(t, &Server{MaxConns: 1})
	first, err := Dial(context.Background(), addr)
	require.NoError(t, err)
	defer first.Abort()
	_, err = first.Echo([]byte("in"))
	require.NoError(t, err, "the first connection is served")
	// The reset may come before the connect returns, or after it.
	over, err := Dial(context.Background(), addr)
	if err == nil {
		defer over.Abort()
		_, err = over.Echo([]byte("over"))
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the server at "+addr+" reset the connection as soon as it was made: it may be at its connection limit")
}

// A stream client of a line server waits for an echo that waits for a
// newline: the timeout says so.
func TestAStreamTimeoutAgainstALineServerHintsAtLineFraming(t *testing.T) {
	addr, _ := start(t, &Server{Framing: FramingLine})
	c, err := (&Dialer{Timeout: 100 * time.Millisecond}).Dial(context.Background(), addr)
	require.NoError(t, err)
	defer c.Abort()
	_, err = c.Echo([]byte("no newline"))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.Contains(t, err.Error(), "a line server waits for a newline: is it one? then use line framing")
}

// A connect that does not finish in time is a timeout as an echo that does
// not come is: os.ErrDeadlineExceeded, and words that say so.
func TestAConnectThatTimesOutSaysSo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	_, err := DialStream(ctx, "127.0.0.1:1", 0, nil)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.Contains(t, err.Error(), "timed out connecting to 127.0.0.1:1")
}
