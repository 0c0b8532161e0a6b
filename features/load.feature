@tcp @load
Feature: Load: many clients at once, each served in full
  Load shows what an echo server does when it is busy, not what it does
  for one client at a time: every echo must still be byte-exact and only
  the sender's own, and nothing may be left waiting. The time bounds are
  generous, only there so that nothing hangs; how fast the server is,
  the benchmarks measure (make bench).

  Scenario Outline: 200 clients at once, 200 messages each, every echo byte-exact (<framing> server)
    Given a <framing> echo server
    When 200 clients each send 200 lines at the same time, all within 60 seconds
    Then every client receives exactly its own lines, in order
    And the server saw 200 connections

    Examples:
      | framing      |
      | line         |
      | fixed        |

  Scenario: 2000 connections open at once, each served
    Given 2000 clients are connected and idle
    When every idle client sends a line and reads its echo
    Then every client receives exactly its own lines, in order

  Scenario: 1000 idle clients do not hold up a shutdown
    Given 1000 clients are connected and idle
    When the server shuts down, giving busy connections 5 seconds
    Then the shutdown finished without needing that time
    And the server saw 1000 connections end because the server shut down

  @process
  Scenario: 10,000 idle clients hold less than 40 MiB of the server's memory
    A connection with nothing to read or write costs the server its
    socket and a few hundred bytes of state, not a goroutine: people
    testing how many connections a balancer or a NAT holds need the echo
    end to be lean. (What a connection costs is in docs/performance.md;
    the bound here leaves room for a busy host.)
    Given a line echo server
    And the server accepts at most 12000 connections at once
    When 10000 clients connect, each has a line echoed, and all stay silent
    Then the server's resident memory grew by less than 40 MiB while they connected
    And every silent client still has a line echoed
