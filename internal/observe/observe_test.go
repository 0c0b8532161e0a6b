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
