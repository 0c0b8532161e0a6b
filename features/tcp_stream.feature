@tcp @stream
Feature: Stream TCP echo, the default
  An echo service's first promise, RFC 862's: whatever a client sends comes
  back as soon as it arrives. The stream framing, tcpserver's default and
  the zero value of tcpecho.Server, echoes each read at once, whatever it
  holds: it waits for no line end, no full buffer and no half-close. Any
  client gets its bytes back, as from xinetd's or socat's echo, so this is
  the framing to test networks, load balancers and clients with: a 4-byte
  ping, a load tool's binary payload, a balancer's health check.

  Which framing to choose:
    stream  to test networks, balancers and clients (the default)
    line    to watch a line protocol and see where messages begin and end
    fixed   to watch TCP deliver bytes in pieces, as in the article

  A message, in the stream framing, is what one read returned: an
  observer still sees messages, and the server holds nothing for a client
  beyond one read buffer (64 KiB).

  Background:
    Given a stream echo server

  Scenario: Each piece that arrives on its own is a message of its own
    When a client sends "abc", "defgh" and "i", each arriving on its own
    Then the client receives "abcdefghi"
    And the server saw the messages "abc", "defgh" and "i"

  Scenario: A read is a message: in a megabyte, none larger than one read buffer
    When a client sends 1 MiB of random bytes and finishes sending
    Then the client receives exactly what it sent and then the end of the stream
    And the server saw no message larger than 65536 bytes
