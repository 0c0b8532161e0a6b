// Package identity is the identity probe: a message an echo client sends
// to learn which server answered, behind a load balancer or a Service.
//
// A probe is exactly Size bytes: the magic "ECHOSPEC-WHO?" and a NUL, a
// 16-byte nonce, zeros, and a newline last (so that a line-framed server
// takes it as one line). A server given an identity answers a probe with
// "ECHOSPEC-IAM" and a NUL, the same nonce, its name and a newline: never
// more bytes than the probe, so that a forged UDP probe is no amplifier.
// Anything else, including a probe with a byte changed or of another
// length, is ordinary data and is echoed; a server without an identity
// echoes probes too, which a client reads as "identity unknown".
package identity

import (
	"bytes"
	"errors"
	"fmt"
)

// Size is a probe's length in bytes.
const Size = 128

// MaxName is the longest identity: what fits in an answer no larger than
// the probe.
const MaxName = Size - len(answerMagicText) - nonceSize - 1

const (
	nonceSize       = 16
	probeMagicText  = "ECHOSPEC-WHO?\x00"
	answerMagicText = "ECHOSPEC-IAM\x00"
)

var (
	probeMagic  = []byte(probeMagicText)
	answerMagic = []byte(answerMagicText)
)

// Nonce tells a probe's answer from any other.
type Nonce [nonceSize]byte

// Probe returns the probe carrying nonce.
func Probe(n Nonce) []byte {
	b := make([]byte, Size)
	copy(b, probeMagic)
	copy(b[len(probeMagic):], n[:])
	b[Size-1] = '\n'
	return b
}

// IsProbe tells whether b is a probe, whole and exactly, and returns its
// nonce.
func IsProbe(b []byte) (Nonce, bool) {
	var n Nonce
	if len(b) != Size || !bytes.HasPrefix(b, probeMagic) || b[Size-1] != '\n' {
		return n, false
	}
	rest := b[len(probeMagic):]
	copy(n[:], rest)
	for _, c := range rest[nonceSize : len(rest)-1] {
		if c != 0 {
			return n, false
		}
	}
	return n, true
}

// MayBeProbe tells whether b, the first bytes of a stream, could still
// become a probe as more bytes arrive: what a TCP server must hold back
// until it knows (at most Size bytes).
func MayBeProbe(b []byte) bool {
	if len(b) > Size {
		return false
	}
	magic := b[:min(len(b), len(probeMagic))]
	if !bytes.Equal(magic, probeMagic[:len(magic)]) {
		return false
	}
	zerosFrom, zerosTo := len(probeMagic)+nonceSize, min(len(b), Size-1)
	for i := zerosFrom; i < zerosTo; i++ {
		if b[i] != 0 {
			return false
		}
	}
	return len(b) < Size || b[Size-1] == '\n'
}

// AnswerInPlace turns probe, which IsProbe accepted, into the answer
// naming name, in probe's own bytes, and returns it: never longer than the
// probe.
func AnswerInPlace(probe []byte, name string) []byte {
	var n Nonce
	copy(n[:], probe[len(probeMagic):])
	b := append(probe[:0], answerMagic...)
	b = append(b, n[:]...)
	b = append(b, name[:min(len(name), MaxName)]...)
	return append(b, '\n')
}

// ParseAnswer returns the name an answer to the probe with nonce n
// carries; ok is false for anything else, such as the probe echoed back
// by a server without an identity.
func ParseAnswer(b []byte, n Nonce) (name string, ok bool) {
	if len(b) > Size || !bytes.HasPrefix(b, answerMagic) || len(b) < len(answerMagic)+nonceSize+1 || b[len(b)-1] != '\n' {
		return "", false
	}
	rest := b[len(answerMagic):]
	if !bytes.Equal(rest[:nonceSize], n[:]) {
		return "", false
	}
	return string(rest[nonceSize : len(rest)-1]), true
}

// ErrBadName is what CheckName returns for a name no answer can carry.
var ErrBadName = errors.New("identity must be 1 to 98 printable ASCII characters")

// CheckName tells whether name can be an identity: 1 to MaxName printable
// ASCII characters, so that an answer is one line and never cut.
func CheckName(name string) error {
	if name == "" || len(name) > MaxName {
		return fmt.Errorf("%w: %q has %d", ErrBadName, name, len(name))
	}
	for _, c := range []byte(name) {
		if c < 0x21 || c > 0x7e {
			return fmt.Errorf("%w: %q", ErrBadName, name)
		}
	}
	return nil
}
