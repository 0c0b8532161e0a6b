// Package procmem reads a process's memory figures, for the benchmark
// table and for the scenarios that bound a server's memory.
package procmem

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Read reads one of a process's memory figures from /proc (Linux), in
// bytes: "VmRSS" for resident memory now, "VmHWM" for its peak.
func Read(pid int, field string) (int, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			var kib int
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib); err != nil {
				return 0, fmt.Errorf("%s %q: %w", field, rest, err)
			}
			return kib << 10, nil
		}
	}
	return 0, errors.New("no " + field + " in /proc status")
}
