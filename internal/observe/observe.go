// Package observe is what tcpecho and udpecho share about observers: an
// observer may say which kinds of event it wants, and several observers
// can be told as one, as io.MultiWriter writes to several writers.
package observe

// Observer is told of events of type E; tcpecho.Observer and
// udpecho.Observer have its method set.
type Observer[E any] interface {
	Observe(E)
}

// Interests is what an observer may also implement to say which kinds of
// event, K, it wants.
type Interests[K comparable] interface {
	Wants(K) bool
}

// Wants tells whether obs wants events of kind k: a nil observer wants
// none, one without Interests wants all.
func Wants[E any, K comparable](obs Observer[E], k K) bool {
	if obs == nil {
		return false
	}
	if i, ok := obs.(Interests[K]); ok {
		return i.Wants(k)
	}
	return true
}

// Multi returns an observer that tells each of obs, in order, of the
// events it wants (kind says of what kind an event is), skipping nil ones;
// or nil when none is left, so that a server told of nothing does no work
// for it; or the one left. Its Wants is what any of them wants.
func Multi[E any, K comparable](kind func(E) K, obs ...Observer[E]) Observer[E] {
	var all []Observer[E]
	for _, o := range obs {
		if o != nil {
			all = append(all, o)
		}
	}
	switch len(all) {
	case 0:
		return nil
	case 1:
		return all[0]
	}
	m := multi[E, K]{all: all, kind: kind, interests: make([]Interests[K], len(all))}
	for i, o := range all {
		// Asked once here, not at every event: an event costs each
		// observer a Wants call at most.
		m.interests[i], _ = o.(Interests[K])
	}
	return m
}

type multi[E any, K comparable] struct {
	all       []Observer[E]
	interests []Interests[K] // all's, nil for one that wants everything
	kind      func(E) K
}

func (m multi[E, K]) Observe(e E) {
	k := m.kind(e)
	for i, o := range m.all {
		if in := m.interests[i]; in == nil || in.Wants(k) {
			o.Observe(e)
		}
	}
}

func (m multi[E, K]) Wants(k K) bool {
	for i := range m.all {
		if in := m.interests[i]; in == nil || in.Wants(k) {
			return true
		}
	}
	return false
}

// Func lets an ordinary function be an observer of events of type E.
type Func[E any] func(E)

// Observe calls f(e).
func (f Func[E]) Observe(e E) { f(e) }
