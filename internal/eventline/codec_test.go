package eventline

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errIdle = errors.New("idle")

var table = Reasons{{Name: "idle timeout", Is: errIdle}}

func TestAReasonKeepsItsTextAndItsSentinelAcrossTheStream(t *testing.T) {
	reason := fmt.Errorf("closed after 5m: %w", errIdle)
	name := table.Name(reason)
	assert.Equal(t, "idle timeout", name)
	back := table.Read(reason.Error(), name)
	assert.EqualError(t, back, reason.Error())
	assert.ErrorIs(t, back, errIdle)

	assert.Equal(t, "error", table.Name(errors.New("other")))
	assert.EqualError(t, table.Read("other", "error"), "other")
	assert.Nil(t, table.Read("", ""))
}

type testLine struct {
	Kind string `json:"kind"`
	N    int    `json:"n"`
}

func TestDecodeTellsEventsFromNotes(t *testing.T) {
	var buf bytes.Buffer
	NewEncoder(&buf).Encode(testLine{Kind: "x", N: 3})
	var l testLine
	require.NoError(t, Decode(buf.Bytes(), &l))
	assert.Equal(t, 3, l.N)

	assert.ErrorIs(t, Decode(Dropped(7), &l), ErrDropped)
	assert.ErrorIs(t, Decode(Notice("stderr failed"), &l), ErrNotice)
	assert.Error(t, Decode([]byte("{"), &l))
}

type kind int

func (k kind) String() string { return [...]string{"", "one", "two"}[k] }

func TestKind(t *testing.T) {
	k, err := Kind("two", kind(1), kind(2))
	require.NoError(t, err)
	assert.Equal(t, kind(2), k)
	_, err = Kind("three", kind(1), kind(2))
	assert.Error(t, err)
}
