package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// promptEcho is bytes a client sent, its side left open, and what came
// back of them.
type promptEcho struct {
	sent     []byte
	sentAt   time.Time // when the last byte was written
	received []byte
	readErr  error
	done     chan struct{} // closed when the reading has ended
	p        *peer
}

// sendAndKeepOpen has the named client write data while it reads its echo,
// and leaves the client's side of the connection open: no half-close
// tells the server that the data is complete.
func sendAndKeepOpen(ctx context.Context, name string, data []byte) error {
	p, err := worldFrom(ctx).peer(name)
	if err != nil {
		return err
	}
	e := &promptEcho{sent: data, done: make(chan struct{}), p: p}
	p.prompt = e
	p.conn.SetReadDeadline(time.Now().Add(patience))
	go func() {
		defer close(e.done)
		// Reading while writing: a large echo must not fill the buffers.
		buf := make([]byte, len(data))
		n, err := io.ReadFull(p.conn, buf)
		e.received, e.readErr = buf[:n], err
	}()
	if _, err := p.conn.Write(data); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	e.sentAt = time.Now()
	p.sent += len(data)
	return nil
}

// within waits until the whole echo is back or bound has passed since the
// last byte was sent, and says plainly what a server that held the bytes
// back is doing.
func (e *promptEcho) within(bound time.Duration) error {
	select {
	case <-e.done:
	case <-time.After(time.Until(e.sentAt.Add(bound))):
		e.p.conn.SetReadDeadline(time.Unix(1, 0)) // stop the reader, and see what it got
		<-e.done
	}
	took := time.Since(e.sentAt)
	switch {
	case len(e.received) == len(e.sent) && took <= bound+bound/10:
		if !bytes.Equal(e.received, e.sent) {
			return errors.New(difference(e.sent, e.received))
		}
		return nil
	case len(e.received) == len(e.sent):
		return fmt.Errorf("the echo of %d bytes came back %v after they were sent, later than %v", len(e.sent), took.Round(time.Millisecond), bound)
	case e.readErr != nil && !errors.Is(e.readErr, os.ErrDeadlineExceeded):
		return fmt.Errorf("after %d of %d bytes came back: %w", len(e.received), len(e.sent), e.readErr)
	case len(e.received) > 0 && !bytes.Equal(e.received, e.sent[:len(e.received)]):
		return errors.New(difference(e.sent, e.received))
	}
	got := "nothing came back"
	if len(e.received) > 0 {
		got = fmt.Sprintf("only %d of them came back", len(e.received))
	}
	return fmt.Errorf("%d bytes sent with no line end and the connection left open: %s within %v. "+
		"The server is holding them: it waits for a line end, or for the client to finish sending, before it echoes. "+
		"That is a line service; RFC 862's echo sends data back as it receives it", len(e.sent), got, bound)
}
