@process @ops
Feature: Running it for real: metrics, readiness, a drain for load balancers, socket activation
  Servers that test networks run for days on hosts and in clusters. There
  an operator reads what a server does from its metrics instead of its
  log, a load balancer asks it whether to send it clients, and systemd
  opens its port (port 7 needs no root then) and starts it at the first
  client.

  With -admin ADDR, tcpserver and udpserver answer on that address:
  GET /metrics in Prometheus's exposition format (connections accepted,
  refused and closed by reason, open; bytes and messages in and out; held
  bytes; datagrams answered and refused by reason; log and event records
  dropped), GET /healthz (alive), GET /readyz (200 while accepting, 503
  once a stop has begun) and GET /info (JSON: who and how it is set).
  With -drain-delay D, a stopped server says "not ready" at once and goes
  on serving for D before its listeners close, so that a balancer that
  checks readiness has stopped sending it clients by then. Started by
  systemd with sockets (LISTEN_FDS), a server serves those instead of
  -listen.

  These scenarios need the binaries, so they run with make e2e only; the
  ones that need promtool (Debian's prometheus package), HAProxy or
  systemd-socket-activate (Debian's systemd package) are skipped, and say
  so, where it is not installed.

  Scenario: The metrics count every line echoed, in a format Prometheus accepts
    Given tcpserver -framing line is running with an admin endpoint
    When a client sends 10 lines and receives each back
    Then the admin endpoint's metrics pass promtool's check
    And its /metrics include:
      """
      echo_tcp_received_messages_total 10
      echo_tcp_sent_messages_total 10
      echo_tcp_connections_closed_total{reason="client_closed"} 1
      """

  Scenario: udpserver's metrics count the datagrams answered
    Given udpserver is running with an admin endpoint
    When a client sends 10 datagrams and receives each back
    Then the admin endpoint's metrics pass promtool's check
    And its /metrics include:
      """
      echo_udp_received_datagrams_total 10
      echo_udp_answered_datagrams_total 10
      """

  Scenario: Clients that hold the admin endpoint's connections idle cannot lock out its probes
    The endpoint serves at most 64 connections at once. A kubelet or a
    balancer that cannot reach /healthz takes the server for dead, so a
    connection that waits without a request gives its place to a new one:
    whoever opens many keep-alive connections and leaves them idle cannot
    keep a probe out.

    Given tcpserver -framing line is running with an admin endpoint
    When 300 clients of the admin endpoint each make a request and keep their connections open
    Then a new client's /healthz answers 200 within 1 second

  Scenario: Stopped with a drain delay, a server is not ready at once and serves on for the delay
    /readyz turns to 503 at once. The bound, 500 ms, leaves room for a
    busy host and still leaves a balancer that checks every 100 ms most of
    the 2 seconds to take the server out.

    Given tcpserver -framing line is running with an admin endpoint and -drain-delay 2s
    When tcpserver is sent SIGTERM
    Then its /readyz answers 503 within 500 milliseconds
    And new clients are still served until 2 seconds after the signal
    And it exits with status 0, no sooner than 2 seconds after the signal

  @haproxy
  Scenario: A server drained behind HAProxy leaves no client refused
    HAProxy checks each server's readiness every 100 ms; the stopped
    server says "not ready" for 2 seconds before it closes its listener,
    so HAProxy has taken it out by then and sends every new client to the
    other.

    Given a line echo server that drains for 2 seconds when stopped
    And HAProxy checks each server's /readyz on its admin endpoint
    And HAProxy balances round robin over 2 such servers
    And clients keep connecting through HAProxy, one line each
    When tcpserver is sent SIGTERM
    Then it exits with status 0, no sooner than 2 seconds after the signal
    And every client through HAProxy was served, none refused

  Scenario Outline: Started by systemd-socket-activate, <server> serves the socket it was passed
    Given <server> is started by systemd-socket-activate on a free port
    Then a client is served through that socket: "hello\n" comes back

    Examples:
      | server    |
      | tcpserver |
      | udpserver |
