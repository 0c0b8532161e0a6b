@process
Feature: The binaries as processes
  What only a process has: signals, exit statuses, and the lines it writes
  for the person or the script that started it. Scripts rely on these:
  exit status 0 after SIGTERM, SIGINT or SIGHUP (a closed terminal), 1
  when the server cannot start, 2 for a command line that is wrong, and
  always one line that says what happened.

  These scenarios need the binaries, so they run with make e2e only.

  Scenario Outline: <signal> with clients connected: exit 0, and each client sees the end of the stream
    What a server that shuts down still sends back is
    tcp_shutdown.feature's; here, the binary's signals and exit status.

    Given tcpserver -framing line is running
    And client A sends "a whole line\n" and receives it back
    And client C is connected
    When tcpserver gets <signal>
    Then it exits with status 0
    And client C sees the end of the stream, nothing before it

    Examples:
      | signal  |
      | SIGTERM |
      | SIGHUP  |

  Scenario Outline: <signal> stops <server> with exit status 0
    Given <server> is running
    When <server> gets <signal>
    Then it exits with status 0

    Examples:
      | server    | signal  |
      | tcpserver | SIGTERM |
      | tcpserver | SIGINT  |
      | tcpserver | SIGHUP  |
      | udpserver | SIGTERM |
      | udpserver | SIGINT  |
      | udpserver | SIGHUP  |

  Scenario Outline: An address in use: <server> exits 1 with one clear line
    Given an address that is taken
    When <server> is started on that address
    Then it exits with status 1
    And its only output is:
      """
      <server>: listen on <that address>: address already in use
      """

    Examples:
      | server    |
      | tcpserver |
      | udpserver |

  Scenario Outline: A bad command line: <binary> exits 2, says what is wrong and where its usage is
    When <binary> is started with "<arguments>"
    Then it exits with status 2
    And it says "<problem>", then where to find its usage, and nothing more

    Examples:
      | binary    | arguments           | problem                                                                            |
      | tcpserver | -framing words      | invalid value "words" for flag -framing: framing must be stream, line or fixed, not "words" |
      | tcpserver | -size 0             | invalid value "0" for flag -size: 0 is less than 1                                  |
      | tcpserver | -listen 8080        | invalid value "8080" for flag -listen: missing port in address                      |
      | tcpserver | -max-held -5        | invalid value "-5" for flag -max-held: -5 is less than 0                            |
      | tcpclient | -nope               | flag provided but not defined: -nope                                               |
      | udpserver | -guard=maybe        | invalid boolean value "maybe" for -guard: parse error                              |
      | udpclient | -retries -1         | invalid value -1 for flag -retries: negative                                       |
