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
	require.EqualError(t, back, reason.Error())
	require.ErrorIs(t, back, errIdle)

	assert.Equal(t, "error", table.Name(errors.New("other")))
	require.EqualError(t, table.Read("other", "error"), "other")
	assert.NoError(t, table.Read("", ""))
}

type testLine struct {
	Kind string `json:"kind"`
	N    int    `json:"n"`
}

type kind int

func (k kind) String() string { return [...]string{"", "x", "y"}[k] }

func TestDecodeTellsEventsFromNotes(t *testing.T) {
	var buf bytes.Buffer
	NewEncoder(&buf).Encode(testLine{Kind: "y", N: 3})
	var l testLine
	k, err := Decode(buf.Bytes(), &l, kind(1), kind(2))
	require.NoError(t, err)
	assert.Equal(t, kind(2), k)
	assert.Equal(t, 3, l.N)

	for line, want := range map[string]error{string(Dropped(7)): ErrDropped, string(Notice("stderr failed")): ErrNotice} {
		_, err := Decode([]byte(line), &l, kind(1), kind(2))
		require.ErrorIs(t, err, want)
	}
	_, err = Decode([]byte("{"), &l, kind(1), kind(2))
	require.Error(t, err)
	_, err = Decode([]byte(`{"kind":"z"}`), &l, kind(1), kind(2))
	assert.ErrorContains(t, err, `unknown kind "z"`)
}
