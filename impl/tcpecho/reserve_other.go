//go:build !linux

package tcpecho

import "errors"

// Elsewhere connections never park, so no reserve is needed.
func spareFd() (int, error) { return -1, errors.ErrUnsupported }

func closeFd(int) {}
