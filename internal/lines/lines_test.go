package lines

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWaitLineIsWokenByTheWriteThatCompletesIt(t *testing.T) {
	o := NewOutput()
	got := make(chan string, 1)
	go func() {
		addr, err := o.WaitLine(context.Background(), "listening on ")
		assert.NoError(t, err)
		got <- addr
	}()
	o.Write([]byte("starting\nlistening on 127.0.0.1:"))
	o.Write([]byte("8080\nmore\n"))
	assert.Equal(t, "127.0.0.1:8080", <-got)
}

func TestAWaitEndsWithItsContextAndShowsTheOutput(t *testing.T) {
	o := NewOutput()
	o.Write([]byte("something else\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := o.WaitContaining(ctx, "refused")
	require.ErrorIs(t, err, ErrNotYet)
	assert.Contains(t, err.Error(), "something else")
}

func TestListeningSaysTheServerExited(t *testing.T) {
	o := NewOutput()
	exited := make(chan struct{})
	o.Write([]byte("listen on 127.0.0.1:1: address already in use\n"))
	close(exited)
	_, err := Listening(context.Background(), o, exited)
	require.ErrorIs(t, err, ErrExited)
	assert.Contains(t, err.Error(), "address already in use")
}
