@faults
Feature: Across a faulty link
  Real paths between a client and a server are slow, narrow, cut data
  into small pieces, reset connections or go silent; UDP datagrams are
  lost, duplicated and reordered. An echo service for testing networks
  must stay exact through all of that, and where it cannot, its server
  and its clients must say clearly what happened, within their timeouts.

  For TCP the scenarios put a fault-injecting proxy (Shopify's Toxiproxy)
  between the clients and the server. For UDP they put a relay that drops
  3 of every 10 datagrams each way, sends every echo twice and lets echoes
  overtake each other.

  Toxiproxy passes no half-close: when a client ends its sending side, it
  closes the whole connection to the server, and echoes still on their
  way are lost. So the TCP clients here keep their side open until every
  byte is back.

  @tcp
  Scenario: Latency: the echo is exact, and the client reports the time the link added
    Given a line echo server
    And the link to the server adds 100 milliseconds each way
    And the echo client uses line framing and waits at most 5 seconds for an echo
    When the echo client sends the message "hello across a slow link"
    Then the echo client gets "hello across a slow link\n" back
    And the echo client reports a round trip of at least 200 milliseconds

  @tcp
  Scenario: Latency: echobench measures what the link added, every echo checked
    Given a line echo server
    And the link to the server adds 50 milliseconds each way
    When echobench runs ping-pong with 2 connections for 1 second
    Then echobench reports a median latency of at least 100 milliseconds, and no errors

  @tcp
  Scenario: A narrow link: a stream still arrives whole
    Given a stream echo server
    And the link to the server carries at most 256 KiB per second each way
    When client A sends 256 KiB of random bytes with no line end and keeps its side open
    Then client A receives the same bytes back within 5 seconds

  @tcp
  Scenario Outline: Data cut into pieces of a few bytes: every byte still comes back (<framing> server)
    Given a <framing> echo server
    And the link to the server cuts the data into pieces of about 3 bytes
    When client A sends 4 KiB of random bytes with no line end and keeps its side open
    Then client A receives the same bytes back within 5 seconds

    Examples:
      | framing      |
      | stream       |
      | fixed        |

  @tcp
  Scenario: Data cut into pieces of a few bytes: a line server still sees the whole line
    Given a line echo server
    And the link to the server cuts the data into pieces of about 3 bytes
    When client A is served: "one line, cut into pieces on the way\n" comes back
    Then the server saw the message "one line, cut into pieces on the way\n"

  @tcp
  Scenario: The link resets the connection: the client says it was reset
    Given a line echo server
    And the link to the server resets every connection that sends something
    And the echo client uses line framing and waits at most 5 seconds for an echo
    When the echo client sends the message "hello"
    Then the echo client reports that the connection was reset

  @tcp
  Scenario: The link goes silent: the client gives up within its timeout
    Given a line echo server
    And the link to the server goes silent
    And the echo client uses line framing and waits at most 1 second for an echo
    And the echo client waits at most 200 milliseconds for an echo
    When the echo client sends the message "hello"
    Then the echo client reports that it timed out
    And tcpclient exits with status 1, saying:
      """
      tcpclient: timed out after 200ms waiting for the echo from <address> (got 0 of 6 bytes): i/o timeout
      """

  @tcp
  Scenario: The link goes silent: the server lets the client go after its idle timeout, and the client is told
    Given a line echo server
    And the server closes connections idle for 300 milliseconds
    And the link to the server goes silent
    And the echo client uses line framing and waits at most 5 seconds for an echo
    When the echo client sends the message "hello"
    Then the server saw a connection end because it was idle
    And the echo client reports that the server closed the connection before the echo came

  @udp
  Scenario: Loss, duplicates and reordering: the UDP client gets every echo, once, in order
    Given a UDP echo server
    And the path to the UDP server drops 3 of every 10 datagrams each way, and sends every echo twice, out of order
    And the UDP echo client waits 100 milliseconds for each echo and retries 10 times
    When the UDP echo client sends 20 numbered messages
    Then the UDP echo client gets each of them back, once, in order
