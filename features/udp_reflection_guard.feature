@udp @guard
Feature: UDP reflection guard
  Two UDP services that answer every datagram, say two echo servers, or an
  echo server and a chargen server, will answer each other forever once one
  forged datagram, sent from one service's port to the other's, starts
  them (CVE-1999-0103). Each reply is a new request, so the loop never ends
  and floods the network between them.

  So the echo server does not answer datagrams whose source could be such a
  service:
  - a port below 1024, where echo (7), daytime (13), chargen (19) and
    friends live, and port 2049 (NFS), as OpenBSD's inetd refuses them;
  - its own port number, on any host: the server itself (a datagram forged
    from its own address would make it answer itself forever), or another
    echo service of the same fleet, such as a DaemonSet's on every node,
    which listens on the same port. Clients send from ephemeral ports, so
    a client is refused for this only if the port its system picked
    happens to be the server's;
  - a broadcast, multicast or unspecified source address, which no single
    host has: 255.255.255.255, 0.0.0.0, and the broadcast address of each
    of the host's own subnets, such as 127.255.255.255. A subnet of another
    host's is not known here, so its broadcast address is not refused.

  What these rules cannot see is an echo service on another port above
  1023. A loop with it looks, from the server, like a client that sends the
  same datagram again and again as fast as the answers come, as echobench
  and fortio do. So, as a second line, a source that sends the same payload
  256 times in a row gets a probe: a datagram of the server's own, from
  another port. A client's connected socket never sees it, and an
  unconnected client does not answer it; an echo service sends it back,
  and only then is the source refused for a second, which ends the loop.
  A loop is counted in turns, not time: it ends after a few hundred,
  however fast or slow it runs. A source that did not echo the probe is
  not probed again for ten seconds. What it cannot see is a loop whose
  payload changes from turn to turn (with a daytime or chargen service on
  a port above 1023), or one with a service that answers the server but not
  the probe's new port.

  The server counts every datagram it refuses, tells its observer, and
  logs the refusals at most once a second, so a flood cannot flood the log.
  xinetd's built-in echo has no such guard; the article's server neither.
  The guard can be turned off (udpserver -guard=false) where no datagram
  can be forged.

  Scenarios with ports below 1024 need root or CAP_NET_BIND_SERVICE to bind
  the client's port, and forged datagrams need a raw socket (root or
  CAP_NET_RAW); without them they are skipped and say so.

  Background:
    Given a UDP echo server

  Scenario Outline: Service port <port>: no reply, so no loop can start
    When a client on port <port> sends the datagram "are you a loop?"
    Then the server refuses the datagram from port <port> because <reason>
    And a client on an ordinary port still gets "hello" back
    And the client on port <port> received nothing

    Examples:
      | port | reason               |
      | 7    | it is a service port |
      | 19   | it is a service port |
      | 1023 | it is a service port |
      | 2049 | it is the NFS port   |

  @forged
  Scenario: A datagram forged from the server's own address and port is not answered
    Given a datagram "are you a loop?" forged from the server's own address and port
    Then the server refuses the forged datagram because it comes from its own port
    And the server did not answer the forged datagram

  @forged
  Scenario: Two echo servers on one port: a datagram forged between them starts no loop
    Given a second UDP echo server on the same port at 127.0.0.2
    When a datagram "ping" forged from the second server to the first
    Then the server refuses the forged datagram because it comes from its own port
    And the server did not answer the forged datagram

  @forged
  Scenario Outline: A datagram from a broadcast or unspecified source (<source>) is not answered
    Given a datagram "who is there?" forged from <source> to the server
    Then the server refuses the forged datagram because its source is a broadcast or unspecified address
    And the server did not answer the forged datagram

    Examples:
      | source                |
      | 127.255.255.255:40000 |
      | 255.255.255.255:40000 |

  @forged
  Scenario: An echo service on another port: a loop with it ends after a few hundred turns
    The other service has no guard, as xinetd's echo has none.

    Given a second UDP echo server on another port, with no reflection guard
    When a datagram "ping" forged from the second server to the first
    Then the server refuses the forged datagram because its source is an echo service in a loop with it
    And the loop ended after at most 1000 answers, and stays ended

  Scenario Outline: Guard turned off: port <port> is answered
    Given the reflection guard is turned off
    When a client on port <port> sends the datagram "hello"
    Then the client on port <port> receives the datagram "hello"

    Examples:
      | port |
      | 7    |
      | 2049 |
