package observe

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

type kind int

type event struct {
	kind kind
	text string
}

// recorder keeps what it was told; with only set, it wants that kind alone.
type recorder struct {
	got  []string
	only kind
}

func (r *recorder) Observe(e event) { r.got = append(r.got, e.text) }

type picky struct{ recorder }

func (p *picky) Wants(k kind) bool { return k == p.only }

func kindOf(e event) kind { return e.kind }

func TestMultiTellsEachWhatItWants(t *testing.T) {
	all, some := &recorder{}, &picky{recorder{only: 2}}
	m := Multi[event, kind](kindOf, all, nil, some)
	for i, text := range []string{"one", "two", "three"} {
		m.Observe(event{kind(i + 1), text})
	}
	assert.Equal(t, []string{"one", "two", "three"}, all.got)
	assert.Equal(t, []string{"two"}, some.got)
	assert.True(t, Wants[event](m, kind(3)), "one of them wants everything")

	m = Multi[event, kind](kindOf, some)
	assert.Same(t, some, m, "one observer left is that observer")
	assert.False(t, Wants[event](m, kind(1)))
}

func TestMultiOfNothingIsNil(t *testing.T) {
	assert.Nil(t, Multi[event, kind](kindOf))
	assert.Nil(t, Multi[event, kind](kindOf, nil, nil))
	assert.False(t, Wants[event](nil, kind(1)), "nobody wants anything")
}

type kindOnly struct{ kind int }

type counting struct {
	n     int
	wants int
}

func (c *counting) Observe(kindOnly) { c.n++ }
func (c *counting) Wants(k int) bool { return k == c.wants }
func kindOfKindOnly(e kindOnly) int  { return e.kind }

// What a fan-out costs an event: two observers, one of which wants it.
func BenchmarkMultiObserve(b *testing.B) {
	logs, metrics := &counting{wants: 1}, &counting{wants: 2}
	m := Multi(kindOfKindOnly, Observer[kindOnly](logs), metrics)
	for b.Loop() {
		m.Observe(kindOnly{kind: 2})
	}
	if metrics.n == 0 {
		b.Fatal("not told")
	}
}
