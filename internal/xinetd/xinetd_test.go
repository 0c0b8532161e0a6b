package xinetd

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEchoConfServesBothProtocolsOnThePort(t *testing.T) {
	conf := EchoConf(4242)
	assert.Equal(t, 2, strings.Count(conf, "port        = 4242"), "the TCP and the UDP service")
	assert.NotContains(t, conf, "PORT")
	assert.Contains(t, conf, "protocol    = udp")
}
