@udp
Feature: UDP echo
  A UDP echo server sends each datagram it receives back to its sender with
  the same payload: nothing added, nothing cut, whatever its size, even
  when it is empty. A datagram is a message of its own, so there is no
  framing to agree on; and a datagram can be lost, so a client waits a
  while for each echo and sends again, a few times, before it gives up.
  That makes UDP echo the quickest check that datagrams cross a network
  path, and back, intact.

  The article's UDP server read into a 1024-byte buffer and sent the whole
  buffer back, so "hi" came back as 1024 bytes, mostly zeros, and anything
  longer than 1024 bytes was cut. Its client sent from the fixed port 8090,
  so a second client could not start, and waited forever for a lost reply.

  Background:
    Given a UDP echo server

  Scenario Outline: Large datagram: comes back whole, nothing cut
    When a client sends a datagram of <size> bytes
    Then the client receives that datagram back

    Examples:
      | size  | note                                      |
      | 1025  | one byte more than the article's buffer   |

  Scenario: Two clients interleaved: each gets only its own replies
    When client A sends the datagram "from A, first"
    And client B sends the datagram "from B, first"
    And client A sends the datagram "from A, second"
    And client B sends the datagram "from B, second"
    Then client A receives the datagrams "from A, first" and "from A, second"
    And client B receives the datagrams "from B, first" and "from B, second"

  Scenario: Clients at once: each sends from its own ephemeral port
    When 8 UDP echo clients each send 20 messages at the same time
    Then every UDP echo client gets its own messages back
    And the server saw datagrams from 8 different ports

  Scenario: The client: sends a message and gets it back
    When the UDP echo client sends "hello"
    Then the UDP echo client gets "hello" back

  Scenario: Lost replies: the client sends again, then gives up in bounded time
    Given a UDP server that receives datagrams but never answers
    And the UDP echo client waits 200 milliseconds for each echo and retries 2 times
    When the UDP echo client sends "hello"
    Then the UDP echo client reports no echo after 3 attempts because nothing came in time
    And the silent server received "hello" 3 times

  Scenario: Nothing listening: the client waits each attempt out, then reports it
    A host that says nothing listens on a port may have a server starting
    there: the client waits its whole timeout each attempt all the same.

    Given a UDP address where nothing listens
    And the UDP echo client waits 200 milliseconds for each echo and retries 2 times
    When the UDP echo client sends "hello"
    Then the UDP echo client reports no echo after 3 attempts because the host refused
    And the UDP echo client took at least 600 milliseconds
    And udpclient exits with status 1, saying:
      """
      udpclient: no echo from <address> after 3 attempts, waiting 200ms each: connection refused
      """

  @addresses
  Scenario Outline: A server on all addresses answers from the one the client chose (<wildcard>)
    A host has several addresses: a node's internal and external IPs, a
    secondary address, a Service's address on a host-network pod. A server
    listening on all of them receives on each, and its answer must leave
    from the address the datagram was sent to: a client's socket is
    connected to that address, and the kernel drops an answer from any
    other. The server's events name that address too ("local").
    Given a UDP echo server listening on <wildcard>
    When a client sends the datagram "hello" to 127.0.0.2
    Then the client receives the datagram "hello" from 127.0.0.2
    And the server saw the datagram come to 127.0.0.2

    Examples:
      | wildcard |
      | 0.0.0.0  |
      | [::]     |
