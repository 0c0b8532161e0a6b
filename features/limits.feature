@tcp @limits
Feature: Limits: the server stays up, bounded and fair, whatever a client does
  An echo server on a network meets clients that never read, never write,
  never leave, send half a line and wait, or come by the thousand from one
  address. Each limit says who is disconnected and when, or what the
  server does instead of holding more, and every scenario checks that
  everyone else is still served. tcpserver's defaults are -max-conns
  10000, -max-conns-per-ip 0 (off), -max-held 64 MiB, -idle-timeout 5m,
  -write-timeout 10s and -shutdown-timeout 5s; 0 turns a limit off.

  Background:
    Given a line echo server

  Rule: -max-conns (default 10000): one connection over the limit is closed at once

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
      Then client C is served: "hello\n" comes back

  Rule: -max-conns-per-ip (default 0, off): one address cannot take every connection

    Scenario: Too many connections from one address: the one over the limit is closed, other addresses are served
      Like xinetd's per_source: one host cannot take every connection.

      Given the server accepts at most 2 connections from one address
      And clients A and B are connected from 127.0.0.2
      When client C connects from 127.0.0.2
      Then client C finds its connection closed by the server
      And the server saw 1 connection rejected for too many from one address
      And client D is served: "hello\n" comes back
      And clients A and B are still served

  Rule: -max-held (default 64 MiB): what all clients together make the server hold

    Scenario: Past the budget for held bytes, an unfinished line is echoed as it stands
      The server holds an unfinished line until its newline comes, and every
      client can send one: the budget (-max-held) bounds what they make it
      hold together. A connection that would hold more echoes what it has,
      as it does with a line longer than -max-line; the client still gets
      every byte back, once and in order. Each held line costs a 64 KiB
      buffer here, so 256 KiB hold four of them.

      Given the server holds at most 256 KiB for all clients together
      When the server has received 60 KiB of a line without its newline from each of clients A, B, C, D and E
      Then the server echoed 1 unfinished line before its newline came, to stay within the budget
      And client F is served: "hello\n" comes back

    Scenario: Past the budget for held bytes, every client still gets its whole line back
      Given the server holds at most 256 KiB for all clients together
      And the server has received 60 KiB of a line without its newline from each of clients A, B, C, D and E
      When clients A, B, C, D and E each send its newline
      Then clients A, B, C, D and E each receive their whole line back

    @process @load
    Scenario: 5000 clients each holding 60 KiB of an unfinished line, with tcpserver -framing line's defaults
      300 MiB of unfinished lines, and the budget (-max-held 64 MiB) holds
      the server's memory down while everyone is still served.

      Given tcpserver -framing line is running with its other defaults and no event stream
      When 5000 clients each send 60 KiB of a line without its newline
      Then a new client is served within 1 second: "hello\n" comes back
      And each of them sends its newline and receives its whole line back
      And tcpserver's peak resident memory stayed under 160 MiB

  Rule: -idle-timeout (default 5m): the server closes a silent client's connection

    Scenario: A silent client is disconnected after the idle timeout
      Given the server closes connections idle for 300 milliseconds
      When client A is connected
      Then the server closed client A's connection after at least 300 milliseconds, because it was idle
      And client A finds its connection closed by the server
      And client B is served: "hello\n" comes back

    Scenario: A client that keeps talking is never idle
      Each message starts the idle timeout again.

      Given the server closes connections idle for 2000 milliseconds
      When client A sends "one\n" and receives it back
      And client A sends "two\n" and receives it back
      Then the server saw the messages "one\n" and "two\n"
      And client A's connection is still open

    Scenario: An idle client's unfinished line comes back before it is disconnected
      Given the server closes connections idle for 300 milliseconds
      When the server has received "half a line" from client A
      Then client A receives "half a line" and then the end of the stream
      And the server saw client A's connection end because it was idle

  Rule: -write-timeout (default 10s): the server closes the connection of a client that stops reading

    Scenario: A client that stops reading is let go after the write timeout, and holds no one up
      While the server waits to write a client's echo it reads nothing more
      from that client, so the client's own unread bytes hold it back: the
      server never holds more than a few buffers for it.

      Given the server gives up on a client that reads none of its echo for 500 milliseconds
      When client A, which never reads, sends 64 MiB
      And the server has read 1 MiB from client A
      Then client B is served: "hello\n" comes back
      And the server saw client A's connection end because it stopped reading
      And the server took in less than 16 MiB of the 64 MiB client A sent

    Scenario: The write timeout counts from the client's last read
      What the client last read is what TCP tells the server: the bytes the
      client acknowledged and the room it offers for more. Bytes the
      server's own kernel takes into a send buffer it enlarges are not the
      client reading. The server looks twenty times per timeout. The time
      is counted from the client's last read to the first sign that it was
      let go: the server's report of the close, or the client's next write
      being refused. The bound leaves room for a machine so loaded that the
      server itself runs late.

      Given the server gives up on a client that reads none of its echo for 1000 milliseconds
      When client A sends lines without end, reading the echo for 200 milliseconds, then stops reading
      Then the server let client A go because it stopped reading, 1000 to 1900 milliseconds after its last read

    Scenario: A slow reader that keeps reading is served in full
      The client reads a little at a time, with pauses, but never stops for
      as long as the write timeout.

      Given the server gives up on a client that reads none of its echo for 2000 milliseconds
      When client A sends 4 MiB of random bytes, reading the echo slowly, and finishes sending
      Then client A receives exactly what it sent and then the end of the stream

    @process
    Scenario: A client that writes 64 MiB and never reads leaves the server's memory bounded
      Given tcpserver is running
      When client A, which never reads, sends 64 MiB
      And the server has read 1 MiB from client A
      Then client B is served: "hello\n" comes back
      And tcpserver's peak resident memory stayed under 64 MiB
