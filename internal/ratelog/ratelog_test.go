package ratelog

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestAllowsOneAnIntervalAndCountsTheRest(t *testing.T) {
	var l Limiter
	t0 := time.Unix(1000, 0)
	ok, skipped := l.Allow(t0)
	assert.True(t, ok)
	assert.Zero(t, skipped)
	for i := range 5 {
		ok, _ := l.Allow(t0.Add(time.Duration(i) * 100 * time.Millisecond))
		assert.False(t, ok)
	}
	ok, skipped = l.Allow(t0.Add(time.Second))
	assert.True(t, ok)
	assert.Equal(t, 5, skipped)

	l.Allow(t0.Add(1100 * time.Millisecond))
	assert.Equal(t, 1, l.Skipped())
	assert.Zero(t, l.Skipped(), "Skipped forgets what it returned")
}
