@interop
Feature: Working with the tools people already have
  People test echo services with what is on their machine: nc (OpenBSD
  netcat) and socat as clients, socat or xinetd as quick servers, a load
  tool such as fortio. Our servers answer those clients byte for byte, and
  our clients work against those servers, so a mixed setup tells the truth
  about the network in between, not about which program is at either end.

  A tool that is not installed skips its scenario and says how to install
  it; CI installs them all.

  Scenario Outline: <tool> over TCP gets back exactly what it sent (<framing> server)
    Given a <framing> echo server
    When <tool> sends "<data>" over TCP
    Then <tool> prints exactly "<data>"

    Examples:
      | tool  | framing      | data                   |
      | nc    | line         | hello\nworld\n         |
      | nc    | fixed        | abc                    |
      | socat | line         | 你好，世界\r\nno end    |
      | socat | fixed        | \x00\xff binary \x80   |

  Scenario Outline: <tool> over TCP: a megabyte of random bytes comes back identical (<framing> server)
    Given a <framing> echo server
    When <tool> sends 1 MiB of random bytes over TCP
    Then <tool> prints exactly what it sent

    Examples:
      | tool  | framing      |
      | nc    | line         |
      | nc    | fixed        |
      | socat | line         |
      | socat | fixed        |

  Scenario Outline: <tool> over UDP gets its datagram back
    Given a UDP echo server
    When <tool> sends the datagram "hi" over UDP
    Then <tool> prints exactly "hi"

    Examples:
      | tool  |
      | nc    |
      | socat |

  Scenario Outline: fortio, a load tool, gets every call answered over <proto>, each echo checked
    fortio sends its payloads with no line end and never ends its stream,
    and checks that each echo is the payload it sent: it needs an echo
    that answers at once, as the default server does.

    Given <server>
    When fortio makes 400 calls of 128 bytes over <proto>, 4 connections at 1000 calls a second
    Then fortio reports 400 calls, all OK, and got back every byte it sent

    Examples:
      | proto | server               |
      | TCP   | a stream echo server |
      | UDP   | a UDP echo server    |

  Scenario: Our TCP client against socat's echo server
    Given socat's echo server over TCP
    And the echo client uses line framing and waits at most 5 seconds for an echo
    When the echo client sends the message "hello"
    Then the echo client gets "hello\n" back

  Scenario: Our UDP client against socat's echo server
    Given socat's echo server over UDP
    When the UDP echo client sends "hello"
    Then the UDP echo client gets "hello" back

  Scenario: Our UDP client against xinetd's built-in echo, which loses datagrams
    xinetd's UDP echo drops nearly every other datagram under a steady
    exchange, and cuts any longer than 2048 bytes. Our client sends again
    when no echo comes, so it gets through.

    Given xinetd's built-in echo
    And the UDP echo client waits 300 milliseconds for each echo and retries 5 times
    When the UDP echo client sends "hello"
    Then the UDP echo client gets "hello" back

  @tls
  Scenario Outline: <tool> over TLS gets back exactly what it sent (<framing> server)
    The TLS clients people have, openssl's and nmap's ncat, against our
    TLS server, each checking its certificate against the test authority.

    Given a <framing> echo server
    And the server speaks TLS with a certificate from the test authority
    When <tool> sends "<data>" over TLS
    Then <tool> prints exactly "<data>"

    Examples:
      | tool             | framing | data                     |
      | openssl s_client | line    | hello over TLS\n         |
      | openssl s_client | stream  | \x00\xff binary \x80\n   |
      | ncat --ssl       | line    | hello over TLS\n         |
      | ncat --ssl       | stream  | 你好，世界 over TLS\n     |

  @tls
  Scenario: Our TCP client over TLS against socat's TLS echo server
    Given socat's TLS echo server, with a certificate from the test authority
    And the echo client uses line framing and waits at most 5 seconds for an echo
    And the echo client speaks TLS to "localhost", trusting the test authority
    When the echo client sends the message "hello"
    Then the echo client gets "hello\n" back
