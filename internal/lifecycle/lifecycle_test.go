package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestClosingBeginsOnceAndWakesWaiters(t *testing.T) {
	var c Closing
	assert.False(t, c.Begun())
	done := c.Done()
	assert.True(t, c.Begin())
	assert.False(t, c.Begin(), "only the first call begins it")
	assert.True(t, c.Begun())
	select {
	case <-done:
	default:
		t.Fatal("Done is not closed")
	}
}

func TestBackoffDoublesToASecondAndStartsOver(t *testing.T) {
	var b Backoff
	var waits []time.Duration
	for range 10 {
		waits = append(waits, b.Next())
	}
	assert.Equal(t, 5*time.Millisecond, waits[0])
	assert.Equal(t, 10*time.Millisecond, waits[1])
	assert.Equal(t, time.Second, waits[9])
	b.Reset()
	assert.Equal(t, 5*time.Millisecond, b.Next())
}

func TestSleepEndsWhenClosingBegins(t *testing.T) {
	var c Closing
	c.Begin()
	start := time.Now()
	Sleep(time.Second, c.Done())
	assert.Less(t, time.Since(start), 500*time.Millisecond)
}

func TestYielderYieldsOnceEveryInterval(t *testing.T) {
	var y Yielder
	start := time.Now()
	assert.True(t, y.Look(start), "the zero value yields at its first look")
	assert.False(t, y.Look(start.Add(YieldEvery-time.Nanosecond)))
	assert.True(t, y.Look(start.Add(YieldEvery)))
	assert.False(t, y.Look(start.Add(YieldEvery+time.Millisecond)))
}
