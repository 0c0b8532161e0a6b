@tcp @proxy
Feature: Clients behind a load balancer: the PROXY protocol
  A load balancer that relays TCP opens its own connection to the server,
  so the server sees every client as coming from the balancer. The PROXY
  protocol (HAProxy's, spoken by HAProxy, nginx, Envoy and AWS's network
  load balancers) mends that: the balancer starts each connection with a
  short header that names the client it relays, in text (v1) or binary
  (v2). A server that reads it (tcpserver -proxy-protocol) logs, reports
  and limits each client by its own address, and still says which
  balancer relayed it.

  A header is a claim anyone could make, so a server can take it only
  from its balancers (-proxy-from), and a header that is no header, or
  one from elsewhere, ends only that connection.

  Scenario Outline: The client's own address, from a <version> header
    Given a line echo server
    And the server reads a PROXY header from every connection
    When client A comes through a balancer that names it 192.0.2.7:5555 in a PROXY <version> header
    Then client A is served: "hello\n" comes back
    And the server saw client A as 192.0.2.7:5555, through the balancer

    Examples:
      | version |
      | v1      |
      | v2      |

  Scenario: A header is required: the server closes a connection without one
    Given a line echo server
    And the server reads a PROXY header from every connection
    When client A sends "hello\n"
    Then client A finds its connection closed by the server
    And the server closed client A's connection because of its PROXY header

  Scenario: A header that is not one: the server closes that connection, others are served
    Given a line echo server
    And the server reads a PROXY header where one comes
    When client A sends a PROXY header that is not one
    Then client A finds its connection closed by the server
    And the server closed client A's connection because of its PROXY header
    And client B is served: "hello\n" comes back

  Scenario: A header from a source that is not a balancer: the server closes that connection
    Given a line echo server
    And the server reads a PROXY header where one comes, only from 10.0.0.0/8
    When client A comes through a balancer that names it 192.0.2.7:5555 in a PROXY v2 header
    Then client A finds its connection closed by the server
    And the server closed client A's connection because of its PROXY header

  Scenario: Headers are optional: a client without one is served as itself
    Given a line echo server
    And the server reads a PROXY header where one comes
    When client A is served: "hello\n" comes back
    Then the server saw client A by its own address, with no balancer

  Scenario: The limit per address counts the clients, not the balancer
    Given a line echo server
    And the server reads a PROXY header from every connection
    And the server accepts at most 1 connections from one address
    When client A comes through a balancer that names it 192.0.2.7:5555 in a PROXY v1 header
    And client B comes through a balancer that names it 192.0.2.8:5555 in a PROXY v1 header
    And client C comes through a balancer that names it 192.0.2.7:6666 in a PROXY v1 header
    Then client A is served: "hello\n" comes back
    And client B is served: "hello\n" comes back
    And client C finds its connection closed by the server
    And the server saw 1 connection rejected for too many from one address

  Scenario Outline: The echo client sends a <version> header, to check a server without a balancer
    Given a line echo server
    And the server reads a PROXY header from every connection
    And the echo client uses line framing and waits at most 5 seconds for an echo
    And the echo client sends a PROXY <version> header first
    When the echo client sends the message "hello"
    Then the echo client gets "hello\n" back

    Examples:
      | version |
      | v1      |
      | v2      |

  @tls
  Scenario: TLS passed through a balancer: the header comes first, then the handshake
    Given a line echo server
    And the server reads a PROXY header from every connection
    And the server speaks TLS with a certificate from the test authority
    And the echo client uses line framing and waits at most 5 seconds for an echo
    And the echo client speaks TLS to "localhost", trusting the test authority
    And the echo client sends a PROXY v2 header first
    When the echo client sends the message "hello"
    Then the echo client gets "hello\n" back
    And the server saw a TLS 1.3 connection for "localhost"

  Scenario: Connections that have not sent their header yet count against their own address
    A header names the client only once it has come. Until then a
    connection from an address that is not a balancer counts against its
    own address, so that no one can take every place with connections
    that never send a header.

    Given a line echo server
    And the server reads a PROXY header where one comes, only from 127.0.0.2/32
    And the server accepts at most 3 connections from one address
    And the server accepts at most 6 connections at once
    When clients A, B, C, D, E and F connect from 127.0.0.1 and send nothing
    And client G connects from 127.0.0.3
    Then client G is served: "hello\n" comes back
    And the server saw 3 connections rejected for too many from one address

  Scenario: Headers are optional: bytes that cannot begin a header are echoed at once
    "PING" begins with the "P" of a v1 header's "PROXY", and a server that
    waited for a whole signature would hold it back until its handshake
    timeout.

    Given a stream echo server
    And the server reads a PROXY header where one comes
    When client A sends "PING"
    Then client A receives "PING"

  Scenario: Headers are optional: a client that sends nothing is given the idle timeout
    A silent client may be a direct one, so it is ended as any idle client
    is, not refused when the header's time is up.

    Given a line echo server
    And the server reads a PROXY header where one comes
    And the server closes connections idle for 300 milliseconds
    When client A connects
    Then the server closed client A's connection after at least 300 milliseconds, because it was idle

  Scenario Outline: A <version> header split across many writes is read whole
    TCP may deliver a header in any number of pieces; a balancer's header
    is as good in ten pieces as in one.

    Given a line echo server
    And the server reads a PROXY header from every connection
    When client A comes through a balancer that names it 192.0.2.7:5555 in a PROXY <version> header, sent a byte at a time
    Then client A is served: "hello\n" comes back
    And the server saw client A as 192.0.2.7:5555, through the balancer

    Examples:
      | version |
      | v1      |
      | v2      |
