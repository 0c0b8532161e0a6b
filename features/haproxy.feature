@tcp @haproxy
Feature: Through a real load balancer: HAProxy
  A TCP load balancer accepts each client's connection itself, opens
  another to one of its servers, and relays bytes between the two. What
  it does to a connection is what these scenarios check, with HAProxy
  (Debian's haproxy package) started on free loopback ports in front of
  our servers: it spreads clients over the servers in turn (round robin);
  it relays every byte of every echo; told to, it names each client to
  the server in a PROXY header; it checks that a server is alive by
  talking to it; and it can terminate TLS itself, or pass it through.

  Each scenario is skipped, and says so, where HAProxy is not installed
  (apt-get install haproxy).

  Scenario Outline: Round robin over three servers: every client's echo is exact (<framing> servers)
    Given a <framing> echo server
    And HAProxy balances round robin over 3 such servers
    When 6 clients each send 20 lines at the same time
    Then every client receives exactly its own lines, in order
    And each of the 3 servers served 2 of the clients

    Examples:
      | framing |
      | stream  |
      | line    |

  Scenario Outline: With <option>, each server sees the client's own address
    Without it, every connection would seem to come from HAProxy.

    Given a line echo server
    And HAProxy sends each server a PROXY <version> header
    And HAProxy balances round robin over 3 such servers
    When clients A, B and C are each served: "hello\n" comes back
    Then the servers saw clients A, B and C by their own addresses, through HAProxy

    Examples:
      | option        | version |
      | send-proxy    | v1      |
      | send-proxy-v2 | v2      |

  Scenario: HAProxy's health check is an echo: a server that does not echo is taken out
    A balancer sends clients only to servers its checks find alive. An
    echo server is checked best by an echo: send a few bytes, expect them
    back.

    Given a line echo server
    And HAProxy checks each server by sending "PING\r\n" and expecting it back
    And HAProxy balances round robin over 2 such servers and a server that answers every line with "nope\n"
    Then HAProxy sees 2 servers up and 1 down
    And HAProxy's backend reads:
      """
      backend servers
        balance roundrobin
        option tcp-check
        tcp-check connect
        tcp-check send-binary 50494e470d0a
        tcp-check expect binary 50494e470d0a
        server s0 <server 1> check inter 100ms fall 1 rise 1
        server s1 <server 2> check inter 100ms fall 1 rise 1
        server s2 <server 3> check inter 100ms fall 1 rise 1
      """

  @tls
  Scenario: TLS terminated at HAProxy, plain TCP to our server
    Given a line echo server
    And HAProxy terminates TLS with a certificate from the test authority
    And HAProxy balances round robin over 1 such server
    And the echo client uses line framing and waits at most 5 seconds for an echo
    And the echo client speaks TLS to "localhost", trusting the test authority
    When the echo client sends the message "hello through HAProxy"
    Then the echo client gets "hello through HAProxy\n" back

  @tls
  Scenario: TLS passed through HAProxy to our server
    Given a line echo server
    And the server speaks TLS with a certificate from the test authority
    And HAProxy balances round robin over 2 such servers
    And the echo client uses line framing and waits at most 5 seconds for an echo
    And the echo client speaks TLS to "localhost", trusting the test authority
    When the echo client sends the message "hello through HAProxy"
    Then the echo client gets "hello through HAProxy\n" back
    And the server saw a TLS 1.3 connection for "localhost"
