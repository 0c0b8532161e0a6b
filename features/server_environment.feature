@process @environment
Feature: The server's environment: a log, an event stream and a terminal that misbehave
  A server runs under somebody else's terminal, pipe, log collector or
  supervisor, and they misbehave too: the reader at the end of a pipe
  exits, a log collector stalls, a FIFO meant for a monitor is never
  opened, the terminal is closed. None of that may stop the server or
  keep a client waiting. A log line or an event that cannot be written
  now is dropped and counted, never waited for; the count is written
  where the lines went missing once the reader takes lines again, and in
  the server's last log line. A destination that fails is reported where
  the server can still report: a failed log in the event stream.

  These scenarios need the binaries, so they run with make e2e only.

  Scenario: A log reader that goes away: tcpserver keeps serving, and says so in its event stream
    A write to a pipe whose reader has gone ends a Go program, unless it
    asks not to: the server asks not to, so a log line is lost, not the
    server.

    Given tcpserver is running with -v, and the reader of its log leaves after the line that says where it listens
    When client A sends "hello\n" and receives it back
    And client B sends "hello\n" and receives it back
    Then tcpserver is still running
    And the server's event stream says that its log failed
    And when tcpserver gets SIGTERM it exits with status 0

  Scenario: A log reader that goes away: udpserver keeps answering
    Given udpserver is running with -v, and the reader of its log leaves after the line that says where it listens
    When client A sends the datagram "one"
    And client A receives the datagram "one"
    And client A sends the datagram "two"
    Then client A receives the datagram "two"
    And udpserver is still running
    And when udpserver gets SIGTERM it exits with status 0

  Scenario: A log nobody reads keeps no client waiting
    A full pipe blocks whoever writes to it: the server's log lines wait
    in a bounded queue instead, and are dropped and counted past it, so no
    client waits for the log.

    Given tcpserver is running with -v, and nobody reads its log after the line that says where it listens
    When 2000 clients in turn each send a line and receive it back
    Then when tcpserver gets SIGTERM it exits with status 0

  Scenario: An event stream nobody opens: the server serves, and stops when told
    Opening a FIFO for writing waits for a reader. The server does not:
    events wait for the reader (within -events-buffer), and the server
    says in its log that the FIFO has none yet.

    Given tcpserver is running with its events going to a FIFO that nobody opens
    When client A sends "hello\n" and receives it back
    And tcpserver gets SIGTERM
    Then it exits with status 0
    And it exited within 2 seconds of the signal

  Scenario: An event reader that never reads keeps no client waiting, and the drops are counted
    Given tcpserver is running with "-events-buffer 65536" and its events going to a FIFO whose reader never reads
    When 2000 clients in turn each send a line and receive it back
    And tcpserver gets SIGTERM
    Then it exits with status 0
    And its last log line counts the events it dropped

  Scenario: When the event reader leaves, the next one gets the events
    Given tcpserver is running with its events going to a FIFO
    And a reader of the FIFO sees client A connect, and leaves
    When client B sends "hello\n" and receives it back
    And client C sends "hello\n" and receives it back
    And client C disconnects
    Then a new reader of the FIFO sees client C's connection open and close

  Scenario: Out of descriptors: connections that wait keep every byte they were sent
    A connection that waits for its client gives its goroutine back, and
    takes a descriptor again for a moment when its client sends. A server
    out of descriptors keeps a few in reserve for that, and stops
    accepting first: a client waits in the listener's backlog rather than
    one already connected losing what it sent.

    Given tcpserver -framing line is running with at most 256 descriptors
    And 230 clients connect and send nothing
    And 770 more clients connect, more than the server has descriptors for
    When each silent client sends half a line and, 300 milliseconds later, the rest, and receives its whole line back
    Then tcpserver is still running
