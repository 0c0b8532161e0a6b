@identity
Feature: Which server answered: the identity probe
  Behind a load balancer or a Kubernetes Service, a client that watches a
  rollout wants to know which server answered it, and an echo has no room
  for a name. So a server given a name (tcpserver or udpserver -identity
  NAME, such as its pod's name) answers one message, the identity probe,
  with that name instead of echoing it; everything else it echoes as
  always.

  The probe is exactly 128 bytes: "ECHOSPEC-WHO?" and a NUL byte, a 16-byte
  nonce of the client's choice, zeros, and a newline last. The answer is
  "ECHOSPEC-IAM", a NUL byte, the same nonce, the name and a newline: never
  more bytes than the probe, so that a forged probe makes no server an
  amplifier. Data that differs from that form in any byte, or in length, is
  not a probe and is echoed. A server without a name echoes probes too,
  and a client reads its own probe coming back as "identity unknown": a
  watch works against any echo service.

  Over UDP a probe is a datagram. Over TCP it is the first 128 bytes of a
  connection, in whatever framing: the answer comes first, then the echo of
  what followed the probe. Later in a stream a probe is data. While the
  first bytes of a connection could still become a probe (they spell the
  start of "ECHOSPEC-WHO?"), a named server waits for more before it
  echoes them; once they cannot, or the client ends its stream, they are
  echoed.

  @udp
  Scenario: A named server answers the probe with its name
    Given a UDP echo server named "echo-a"
    When a client sends the identity probe
    Then the client receives the answer "echo-a" to its probe, no larger than the probe

  @udp
  Scenario: A server without a name echoes the probe like any data
    Given a UDP echo server
    When a client sends the identity probe
    Then the client receives that datagram back

  @udp
  Scenario Outline: Nearly a probe is data: <change> comes back as sent
    Given a UDP echo server named "echo-a"
    When a client sends the identity probe with <change>
    Then the client receives that datagram back

    Examples:
      | change                          |
      | one byte fewer                  |
      | one byte more                   |
      | a padding byte that is not zero |

  @tcp
  Scenario Outline: A named <framing> server answers the probe that opens a connection, then echoes
    Given a <framing> echo server named "echo-b"
    When client A sends the identity probe, then "hello\n"
    Then client A receives the answer "echo-b" to its probe, then "hello\n"

    Examples:
      | framing      |
      | stream       |
      | line         |
      | fixed        |

  @tcp
  Scenario: A probe after the first byte of a connection is data
    Given a stream echo server named "echo-b"
    When client A sends "hello\n", then the identity probe
    Then client A receives "hello\n", then its probe, back as sent
