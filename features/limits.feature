@tcp @limits
Feature: Limits: the server stays up, bounded and fair, whatever a client does
  An echo server on a network meets clients that never read, never write,
  never leave, or come by the thousand. Each limit says who is
  disconnected and when, and every scenario checks that everyone else is
  still served. tcpserver's defaults are -max-conns 10000, -idle-timeout 5m,
  -write-timeout 10s and -shutdown-timeout 5s; 0 turns a limit off.

  Background:
    Given a line echo server

  Scenario: Too many connections: the one over the limit is closed at once
    Given the server accepts at most 3 connections at once
    And clients A, B and C are connected
    When client D connects
    Then client D finds its connection closed by the server
    And the server saw 1 connection rejected for being over the limit
    And clients A, B and C are still served

  Scenario: Too many connections: a place that frees up is taken again
    Given the server accepts at most 2 connections at once
    And clients A and B are connected
    When client A disconnects
    And the server saw client A's connection end because the client closed it
    Then client C sends "hello\n" and receives it back

  Scenario: A silent client is disconnected after the idle timeout
    Given the server closes connections idle for 300 milliseconds
    When client A is connected
    Then the server closed client A's connection after at least 300 milliseconds, because it was idle
    And client A finds its connection closed by the server
    And client B sends "hello\n" and receives it back

  Scenario: A client that keeps talking is never idle
    Given the server closes connections idle for 300 milliseconds
    When client A sends "one\n" and receives it back
    And client A sends "two\n" and receives it back
    Then the server saw the messages "one\n" and "two\n"
    And client A's connection is still open

  Scenario: An idle client's unfinished line comes back before it is disconnected
    Given the server closes connections idle for 300 milliseconds
    When client A sends "half a line" and the server has read it
    Then client A receives "half a line" and then the end of the stream
    And the server saw client A's connection end because it was idle

  Scenario: A client that stops reading is let go after the write timeout, and holds no one up
    While the server waits to write a client's echo it reads nothing more
    from that client, so the client's own unread bytes hold it back: the
    server never holds more than a few buffers for it.

    Given the server gives up on a client that reads none of its echo for 500 milliseconds
    When client A, which never reads, sends 64 MiB
    And the server has read 1 MiB from client A
    Then client B sends "hello\n" and receives it back
    And the server saw client A's connection end because it stopped reading
    And the server took in less than 16 MiB of the 64 MiB client A sent

  Scenario: A slow reader that keeps reading is served in full
    Given the server gives up on a client that reads none of its echo for 500 milliseconds
    When client A sends 4 MiB of random bytes, reading the echo slowly, and finishes sending
    Then client A receives exactly what it sent and then the end of the stream

  @process
  Scenario: A client that writes 64 MiB and never reads leaves the server's memory bounded
    Given tcpserver is running
    When client A, which never reads, sends 64 MiB
    And the server has read 1 MiB from client A
    Then client B sends "hello\n" and receives it back
    And tcpserver's peak resident memory stayed under 64 MiB
