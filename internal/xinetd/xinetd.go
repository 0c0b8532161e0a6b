// Package xinetd holds the configuration that serves xinetd's built-in
// echo service, for checking our clients and the conformance check
// against an echo server we did not write. The same file, echo.conf, is
// what .ci/conformance.sh runs xinetd with.
package xinetd

import (
	_ "embed"
	"strconv"
	"strings"
)

//go:embed echo.conf
var echoConf string

// EchoConf returns the configuration of xinetd's echo over TCP and UDP on
// 127.0.0.1 and port.
func EchoConf(port int) string {
	return strings.ReplaceAll(echoConf, "PORT", strconv.Itoa(port))
}
