package tcpecho

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

// scriptedConn is a net.Conn whose reads return the given chunks, in
// order, then the end of the stream; what is written to it is kept. It
// lets a fuzz target decide where the input is split, which a real socket
// does not let anyone decide.
type scriptedConn struct {
	noSocket
	chunks [][]byte
	out    bytes.Buffer
	writes [][]byte // each write, apart
}

func (c *scriptedConn) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if c.chunks[0] = c.chunks[0][n:]; len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func (c *scriptedConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, bytes.Clone(p))
	return c.out.Write(p)
}

// split cuts data into chunks whose lengths come from cuts, 1 to 256 bytes
// each, repeating cuts as needed: arbitrary split points.
func split(data, cuts []byte) [][]byte {
	var chunks [][]byte
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if len(cuts) > 0 {
			n = min(n, 1+int(cuts[i%len(cuts)]))
		}
		chunks = append(chunks, data[:n])
		data = data[n:]
	}
	return chunks
}

// echoScripted runs one connection of s over data split by cuts and returns
// what was echoed, the messages the server took, and why it ended.
func echoScripted(t *testing.T, s *Server, data, cuts []byte) (echo []byte, messages [][]byte, reason error) {
	cfg, err := s.settings()
	if err != nil {
		t.Fatal(err)
	}
	sc := &scriptedConn{chunks: split(data, cuts)}
	obs := ObserverFunc(func(e Event) {
		if e.Kind == MessageReceived {
			messages = append(messages, bytes.Clone(e.Message))
		}
	})
	reason = echoOver(s, &cfg, sc, obs)

	// Without an observer of messages the server takes whole batches in
	// one step; it must write the very same bytes at the very same reads.
	unobserved := &scriptedConn{chunks: split(data, cuts)}
	quietReason := echoOver(s, &cfg, unobserved, nil)
	if !slices.EqualFunc(sc.writes, unobserved.writes, bytes.Equal) || !errors.Is(quietReason, reason) {
		t.Fatalf("observed, the server wrote %q and ended with %v; unobserved, %q and %v", sc.writes, reason, unobserved.writes, quietReason)
	}
	return sc.out.Bytes(), messages, reason
}

// checkWhole fails t unless the connection ended with the client's end
// of stream, having echoed data exactly, in messages that together are
// data.
func checkWhole(t *testing.T, data, echo []byte, messages [][]byte, reason error) {
	t.Helper()
	if !errors.Is(reason, ErrClientClosed) {
		t.Fatalf("ended with %v, not the client's end of stream", reason)
	}
	if !bytes.Equal(echo, data) {
		t.Fatalf("echo %q differs from input %q", echo, data)
	}
	if joined := bytes.Join(messages, nil); !bytes.Equal(joined, data) {
		t.Fatalf("messages %q do not make the input %q", messages, data)
	}
}

func FuzzLineFraming(f *testing.F) {
	f.Add([]byte("hello\nworld\n"), []byte{2}, uint16(64))
	f.Add([]byte("a line longer than the limit\nand one without a newline"), []byte{0, 5, 200}, uint16(8))
	f.Add([]byte("\r\n\n\x00\xff"), []byte{}, uint16(1))
	f.Fuzz(func(t *testing.T, data, cuts []byte, limit uint16) {
		maxLine := 1 + int(limit%512)
		echo, messages, reason := echoScripted(t, &Server{Framing: FramingLine, MaxLine: maxLine}, data, cuts)
		checkWhole(t, data, echo, messages, reason)
		for i, m := range messages {
			last := i == len(messages)-1
			switch {
			case len(m) == 0 || len(m) > maxLine:
				t.Fatalf("message %q is not 1 to %d bytes", m, maxLine)
			case bytes.IndexByte(m[:len(m)-1], '\n') >= 0:
				t.Fatalf("message %q holds a line end before its own", m)
			case m[len(m)-1] != '\n' && len(m) != maxLine && !last:
				t.Fatalf("message %q ends neither a line nor a full piece, and is not the last", m)
			}
		}
	})
}

func FuzzFixedFraming(f *testing.F) {
	f.Add([]byte("abcdefghij"), []byte{0}, uint8(4))
	f.Add([]byte("你好，世界"), []byte{6, 1}, uint8(3))
	f.Add(bytes.Repeat([]byte{0, 0xff}, 3000), []byte{255, 7}, uint8(255))
	f.Fuzz(func(t *testing.T, data, cuts []byte, sizeByte uint8) {
		size := 1 + int(sizeByte)
		echo, messages, reason := echoScripted(t, &Server{Framing: FramingFixed, Size: size}, data, cuts)
		checkWhole(t, data, echo, messages, reason)
		for _, m := range messages {
			if len(m) == 0 || len(m) > size {
				t.Fatalf("message %q is not 1 to %d bytes", m, size)
			}
		}
	})
}

func FuzzStreamFraming(f *testing.F) {
	f.Add([]byte("no line end, no size"), []byte{3})
	f.Add(bytes.Repeat([]byte{0, 0xff, '\n'}, 30000), []byte{255, 7})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		echo, messages, reason := echoScripted(t, &Server{Framing: FramingStream}, data, cuts)
		checkWhole(t, data, echo, messages, reason)
		for _, m := range messages {
			if len(m) == 0 || len(m) > pooledSize {
				t.Fatalf("message of %d bytes: a message is what one read returned, 1 to %d bytes", len(m), pooledSize)
			}
		}
	})
}
