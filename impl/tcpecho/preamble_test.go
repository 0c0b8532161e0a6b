package tcpecho

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/internal/testcert"
)

// tlsPair returns a server configuration and a client one that trusts it.
func tlsPair(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	ca, err := testcert.NewAuthority(t.TempDir(), "test CA")
	require.NoError(t, err)
	_, cert, err := ca.Server()
	require.NoError(t, err)
	return &tls.Config{Certificates: []tls.Certificate{cert}}, &tls.Config{RootCAs: ca.Pool, ServerName: "localhost"}
}

// A client that half-closes a TLS connection (close_notify) still gets
// every byte back before the server closes: 4 MiB, more than any buffer
// on the way holds.
func TestTLSHalfCloseGetsEveryByteBack(t *testing.T) {
	for _, framing := range []Framing{FramingStream, FramingLine, FramingFixed} {
		t.Run(framing.String(), func(t *testing.T) {
			srvTLS, cliTLS := tlsPair(t)
			addr, _ := start(t, &Server{Framing: framing, TLSConfig: srvTLS})
			conn, err := DialStream(context.Background(), addr, 0, cliTLS)
			require.NoError(t, err)
			defer conn.Close()
			sent := make([]byte, 4<<20)
			rand.Read(sent)
			got := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(conn)
				got <- b
			}()
			_, err = conn.Write(sent)
			require.NoError(t, err)
			require.NoError(t, conn.(*tls.Conn).CloseWrite())
			select {
			case b := <-got:
				assert.True(t, bytes.Equal(sent, b), "got %d of %d bytes back", len(b), len(sent))
			case <-time.After(10 * time.Second):
				t.Fatal("no end of stream within 10s")
			}
		})
	}
}

// Limits hold over TLS as over TCP: an idle client is let go.
func TestTLSIdleTimeout(t *testing.T) {
	srvTLS, cliTLS := tlsPair(t)
	rec := newRecorder()
	addr, _ := start(t, &Server{TLSConfig: srvTLS, IdleTimeout: 100 * time.Millisecond, Observer: rec})
	conn, err := DialStream(context.Background(), addr, 0, cliTLS)
	require.NoError(t, err)
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "the server closed the idle connection")
	e := rec.next(t, ConnClosed)
	require.ErrorIs(t, e.Reason, ErrIdleTimeout)
	assert.Equal(t, "TLS 1.3", e.TLS.Version)
}

// Bytes a client sends together with its PROXY header are echoed, and the
// event names the client from the header and the balancer beside it.
func TestProxyHeaderAndDataInOneWrite(t *testing.T) {
	for _, version := range []byte{1, 2} {
		rec := newRecorder()
		addr, _ := start(t, &Server{Framing: FramingLine, ProxyProtocol: ProxyRequired, Observer: rec})
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		client := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5555}
		h, err := proxyproto.HeaderProxyFromAddrs(version, client, c.RemoteAddr()).Format()
		require.NoError(t, err)
		_, err = c.Write(append(h, "hello\n"...))
		require.NoError(t, err)
		got := make([]byte, 6)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.ReadFull(c, got)
		require.NoError(t, err)
		assert.Equal(t, "hello\n", string(got))
		e := rec.next(t, ConnOpened)
		assert.Equal(t, client.String(), e.Remote.String())
		assert.Equal(t, c.LocalAddr().String(), e.Proxy.String())
	}
}

// A malformed header ends only its own connection, with ErrProxyHeader.
func TestMalformedProxyHeaderIsRefused(t *testing.T) {
	rec := newRecorder()
	addr, _ := start(t, &Server{ProxyProtocol: ProxyOptional, Observer: rec})
	dialSending(t, addr, "PROXY TCP4 nonsense\r\n")
	e := rec.next(t, ConnRejected)
	assert.ErrorIs(t, e.Reason, ErrProxyHeader, "%v", e.Reason)
}

func TestPreambleSettingsAreChecked(t *testing.T) {
	for _, s := range []*Server{
		{TLSConfig: &tls.Config{}},
		{ProxyProtocol: 7},
		{HandshakeTimeout: -1},
	} {
		_, err := s.settings()
		assert.Error(t, err)
	}
}

func TestHeaderAheadDecidesAsSoonAsTheBytesCan(t *testing.T) {
	for _, tc := range []struct {
		b               string
		decided, header bool
	}{
		{"P", false, false},
		{"PI", true, false},
		{"PING", true, false},
		{"PROXY", false, true},
		{"PROXY TCP4 1.2.3.4 5.6.7.8 1 2", false, true},
		{"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", true, true},
		{"\r\n\r\n", false, false},
		{"\r\n\r\n\x00\r\nQUIT\n", true, true},
		{"\r\nhello", true, false},
		{"hello", true, false},
	} {
		decided, header := headerAhead([]byte(tc.b))
		assert.Equal(t, tc.decided, decided, "decided, for %q", tc.b)
		if decided {
			assert.Equal(t, tc.header, header, "header, for %q", tc.b)
		}
	}
}

// A TLS client that reads slowly but keeps reading is not cut by the
// write timeout, though every write of its echo waits on it far longer.
func TestTLSSlowReaderWithinTheWriteTimeoutGetsEveryByte(t *testing.T) {
	srvTLS, cliTLS := tlsPair(t)
	addr, _ := start(t, &Server{TLSConfig: srvTLS, WriteTimeout: 300 * time.Millisecond})
	conn, err := DialStream(context.Background(), addr, 0, cliTLS)
	require.NoError(t, err)
	defer conn.Close()
	sent := make([]byte, 1<<20)
	rand.Read(sent)
	go func() {
		conn.Write(sent)
		conn.(*tls.Conn).CloseWrite()
	}()
	var got []byte
	buf := make([]byte, 16<<10)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		time.Sleep(10 * time.Millisecond) // a slow reader, not a wait for an event
	}
	assert.True(t, bytes.Equal(sent, got), "got %d of %d bytes back", len(got), len(sent))
}
