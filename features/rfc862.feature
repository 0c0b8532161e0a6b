@rfc862
Feature: RFC 862, what every echo service promises
  RFC 862 defines the Echo Protocol in one page. Over TCP, a server sends
  back any data it receives, until the client ends the connection. Over
  UDP, it answers each datagram with a datagram carrying the same data.
  Nothing more: no framing, no message sizes, no line ends.

  These scenarios check exactly that and assume nothing else of this
  project (not its framing, flags or observer), so they also run against
  echo services we did not write: an inetd, a sidecar, a load balancer's
  health responder.

    make conformance TCP=host:port UDP=host:port

  Over TCP a client "finishes sending" by closing its side of the
  connection for writing. A conforming server then sends back what it
  still has and closes its own side, and the client knows the echo is
  complete. It must not wait for that, though: it sends data back as it
  receives it, so a client that sends a few bytes with no line end and
  keeps its side open gets them back at once. A server that holds them
  until a line end is a line service, not an echo in RFC 862's sense, and
  fails those scenarios, saying so. Over UDP a datagram may be lost, so a client that hears
  nothing sends it again, a few times; a wrong answer, though, is wrong.

  @tcp
  Rule: Over TCP, a server sends back any data it receives, until the client ends the connection

    Scenario: TCP: text comes back byte for byte, then the server closes
      Given an echo service over TCP
      When a client sends "hello, world\r\n" and finishes sending
      Then the client receives "hello, world\r\n" and then the end of the stream

    Scenario: TCP: every byte value comes back, in order
      Given an echo service over TCP
      When a client sends every byte value from 0 to 255, 64 times over, and finishes sending
      Then the client receives exactly what it sent and then the end of the stream

    Scenario: TCP: data written in many small pieces comes back whole and in order
      Given an echo service over TCP
      When a client sends 256 KiB of random bytes in writes of 1 to 100 bytes and finishes sending
      Then the client receives exactly what it sent and then the end of the stream

    Scenario: TCP: a megabyte without a single line end comes back whole
      Given an echo service over TCP
      When a client sends 1 MiB of random bytes and finishes sending
      Then the client receives exactly what it sent and then the end of the stream

    Scenario: TCP: several clients at once each get back only their own bytes
      Given an echo service over TCP
      When 10 clients each send 64 KiB of their own random bytes at the same time and finish sending
      Then every client receives exactly what it sent and then the end of the stream

    Scenario Outline: TCP: data comes back as it is received, not at a line end
      Given an echo service over TCP
      When a client sends "<data>" and keeps its side open
      Then the client receives the same bytes back within 1 second

      Examples:
        | data             |
        | hello            |
        | \x00\x01\xfe\xff |

    Scenario: TCP: more than a line buffer holds comes back, not only the part that filled it
      Given an echo service over TCP
      When a client sends 100 KiB of random bytes with no line end and keeps its side open
      Then the client receives the same bytes back within 1 second

  @udp
  Rule: Over UDP, a server answers each datagram with a datagram carrying the same data

    Scenario Outline: UDP: a datagram's exact payload comes back
      Given an echo service over UDP
      When a client sends the datagram "<payload>"
      Then the client receives the datagram "<payload>"

      Examples:
        | payload          |
        | hello, world     |
        | \x00\xff\r\n\x00 |

    Scenario: UDP: the echo comes back from the address the datagram was sent to
      A client's UDP socket is connected to the address it sends to, and the
      kernel gives it nothing from any other. A server listening on all of a
      host's addresses that answers from another of them (the one its
      route to the client prefers) is never heard.
      Given an echo service over UDP
      When a client sends the datagram "who answers?"
      Then the echo comes back from the address the datagram was sent to

    Scenario: UDP: an empty datagram gets an empty answer
      Given an echo service over UDP
      When a client sends an empty datagram
      Then the client receives an empty datagram

    Scenario: UDP: the largest datagram comes back whole
      # 65507 bytes, the most an IPv4 datagram carries, unless the run says
      # otherwise (MAX_DATAGRAM) for a service documented to cut.
      Given an echo service over UDP
      When a client sends the largest datagram
      Then the client receives that datagram back
