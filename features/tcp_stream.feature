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

  Scenario: A few bytes with no line end come back at once, the connection left open
    When a client sends "ping" and keeps its side open
    Then the client receives the same bytes back within 1 second

  Scenario: Binary data comes back byte for byte
    When a client sends "\x00\xff\r\n\x00\x80"
    And the client finishes sending
    Then the client receives "\x00\xff\r\n\x00\x80" and then the end of the stream

  Scenario: Each piece that arrives on its own is a message of its own
    When a client sends "abc", "defgh" and "i", each arriving on its own
    Then the client receives "abcdefghi"
    And the server saw the messages "abc", "defgh" and "i"

  Scenario: A megabyte comes back whole, in messages no larger than one read buffer
    When a client sends 1 MiB of random bytes and finishes sending
    Then the client receives exactly what it sent and then the end of the stream
    And the server saw no message larger than 65536 bytes
