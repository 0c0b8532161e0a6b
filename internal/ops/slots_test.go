package ops

import (
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func pipe(t *testing.T) net.Conn {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return a
}

func TestSlotsGiveTheLongestWaitingPlaceToANewcomer(t *testing.T) {
	s := newSlots(nil, 2)
	first, second := pipe(t), pipe(t)
	assert.True(t, s.admit(first))
	assert.True(t, s.admit(second))
	s.ConnState(first, http.StateIdle)
	s.ConnState(second, http.StateIdle)
	third := pipe(t)
	assert.True(t, s.admit(third), "a newcomer takes the place of the connection idle longest")
	assert.NotContains(t, s.conns, first)
	assert.Contains(t, s.conns, second)
}

func TestSlotsRefuseANewcomerWhenEverySlotServesARequest(t *testing.T) {
	s := newSlots(nil, 2)
	first, second := pipe(t), pipe(t)
	s.admit(first)
	s.admit(second)
	s.ConnState(first, http.StateActive)
	s.ConnState(second, http.StateActive)
	assert.False(t, s.admit(pipe(t)))
	s.ConnState(second, http.StateClosed)
	assert.True(t, s.admit(pipe(t)), "a closed connection's slot is free")
}
