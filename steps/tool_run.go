package steps

import "fmt"

// toolRun is what a client tool that is not ours sent and printed.
type toolRun struct {
	name          string
	sent, printed []byte
	err           error
}

func (r *toolRun) check(want []byte) error {
	if r == nil {
		return errNothing
	}
	if r.err != nil {
		return r.err
	}
	if string(r.printed) != string(want) {
		return fmt.Errorf("%s printed something else: %s", r.name, difference(want, r.printed))
	}
	return nil
}
