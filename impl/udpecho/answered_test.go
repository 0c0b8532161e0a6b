package udpecho

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnsweredComesAfterEachAnswerIsSent(t *testing.T) {
	answered := make(chan Event, 100)
	s := &Server{Observer: ObserverFunc(func(e Event) {
		if e.Kind == Answered {
			e.Payload = append([]byte(nil), e.Payload...)
			answered <- e
		}
	})}
	addr, _ := start(t, s)
	c, err := Dial(context.Background(), addr)
	require.NoError(t, err)
	defer c.Close()
	for i := range 5 {
		msg := fmt.Sprintf("datagram %d", i)
		_, err := c.Echo([]byte(msg))
		require.NoError(t, err)
		select {
		case e := <-answered:
			assert.Equal(t, msg, string(e.Payload))
			assert.Equal(t, c.LocalAddr().String(), e.Source.String(), "the answer went to its sender")
		case <-time.After(5 * time.Second):
			t.Fatal("no Answered event within 5s")
		}
	}
}
