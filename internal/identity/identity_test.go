package identity

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAProbeIsAnsweredWithTheNameAndNeverMore(t *testing.T) {
	n := Nonce{1, 2, 3}
	p := Probe(n)
	got, ok := IsProbe(p)
	require.True(t, ok)
	assert.Equal(t, n, got)
	long := strings.Repeat("abcdefghij", 10)
	for _, name := range []string{"echo-a", long[:MaxName]} {
		a := AnswerInPlace(Probe(n), name)
		assert.LessOrEqual(t, len(a), Size, "an answer is never larger than the probe")
		parsed, ok := ParseAnswer(a, n)
		assert.True(t, ok)
		assert.Equal(t, name, parsed)
		_, ok = ParseAnswer(a, Nonce{9})
		assert.False(t, ok, "another probe's answer")
	}
}

func TestNearlyAProbeIsData(t *testing.T) {
	n := Nonce{7}
	for name, b := range map[string][]byte{
		"one byte short":    Probe(n)[:Size-1],
		"one byte more":     append(Probe(n), 'x'),
		"padding not zero":  func() []byte { p := Probe(n); p[Size-2] = 'x'; return p }(),
		"another magic":     func() []byte { p := Probe(n); p[0] = 'e'; return p }(),
		"no newline at end": func() []byte { p := Probe(n); p[Size-1] = 0; return p }(),
	} {
		_, ok := IsProbe(b)
		assert.False(t, ok, name)
	}
	_, ok := ParseAnswer(Probe(n), n)
	assert.False(t, ok, "a probe echoed back is no answer")
}

func TestCheckName(t *testing.T) {
	require.NoError(t, CheckName("echo-7d9f8c-abcde"))
	for _, bad := range []string{"", "a b", "tab\there", "ünïcode", string(make([]byte, MaxName+1))} {
		assert.ErrorIs(t, CheckName(bad), ErrBadName, "%q", bad)
	}
}

func TestMayBeProbeHoldsOnlyWhatCanStillBecomeOne(t *testing.T) {
	p := Probe(Nonce{1})
	for n := 0; n <= Size; n++ {
		assert.True(t, MayBeProbe(p[:n]), "the first %d bytes of a probe", n)
	}
	assert.False(t, MayBeProbe([]byte("hello")))
	assert.False(t, MayBeProbe([]byte("ECHOSPEC-WHO!")))
	notZero := Probe(Nonce{1})[:40]
	notZero[35] = 'x'
	assert.False(t, MayBeProbe(notZero))
	assert.False(t, MayBeProbe(append(Probe(Nonce{1}), 'x')))
}
