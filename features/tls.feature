@tcp @tls
Feature: The echo over TLS
  A load balancer in front of a TLS service either terminates TLS (it
  decrypts, and talks plain TCP or TLS again to the server) or passes it
  through (it relays the encrypted bytes, and the server does the TLS).
  To test either, the echo server speaks TLS itself (tcpserver -tls-cert
  and -tls-key), and the echo client speaks it too (tcpclient -tls).

  Over TLS the echo is the same as over plain TCP: every byte comes back,
  in every framing. What TLS adds is a handshake before the first byte,
  and that can fail: a client that sends plain text, one that does not
  trust the server's certificate, one without the certificate a server
  asks for, one that stops half-way. Each such failure ends only its own
  connection, and the server says why.

  The certificates are made by the scenarios, from a certificate
  authority of their own ("the test authority").

  Background:
    Given the server speaks TLS with a certificate from the test authority

  Scenario Outline: A TLS client gets its message back (<framing> server)
    Given a <framing> echo server
    And the echo client uses line framing and waits at most 5 seconds for an echo
    And the echo client speaks TLS to "localhost", trusting the test authority
    When the echo client sends the message "hello over TLS"
    And the echo client finishes
    Then the echo client gets "hello over TLS\n" back
    And the server saw a TLS 1.3 connection for "localhost"

    Examples:
      | framing |
      | stream  |
      | line    |

  Scenario: Plain text on a TLS port: the server closes that connection and goes on
    Given a line echo server
    And the echo client uses line framing and waits at most 5 seconds for an echo
    And the echo client speaks TLS to "localhost", trusting the test authority
    And client A sends "hello in plain text\n"
    And client A finds its connection closed by the server
    When the echo client sends the message "still serving"
    Then the echo client gets "still serving\n" back
    And the server closed client A's connection because of its TLS handshake

  Scenario: A client that does not trust the server's certificate does not talk to it
    Given a line echo server
    And the echo client speaks TLS to "localhost", trusting another authority
    When the echo client sends the message "hello"
    Then the echo client reports that the TLS handshake failed
    And tcpclient exits with status 1, saying:
      """
      tcpclient: tls handshake with <address>: tls: failed to verify certificate: x509: certificate signed by unknown authority
      """
    And the server closed a connection because of its TLS handshake

  Scenario: A client that never finishes its handshake is let go
    A client that connects and never finishes its handshake would hold a
    connection for ever; the server gives up on it.

    Given a line echo server
    And the server gives up on a connection's handshake after 300 milliseconds
    When client A connects
    Then client A finds its connection closed by the server
    And the server closed client A's connection because of its TLS handshake

  Scenario: A TLS client that stops reading is let go at the write timeout, as a plain one is
    The server closes such a connection without TLS's close notice: written
    into the client's full socket, the notice would wait for a reader that
    never comes. The time is counted as for a plain client; the bound
    leaves room for a machine so loaded that client, server and TCP's own
    window updates run late.

    Given a line echo server
    And the server gives up on a client that reads none of its echo for 2000 milliseconds
    When client A, speaking TLS, sends lines without end, reading the echo for 200 milliseconds, then stops reading
    Then the server let client A go because it stopped reading, 2000 to 2900 milliseconds after its last read

  Scenario Outline: TLS 1.2 offers only AEAD ciphers with forward secrecy (<suite>)
    Mozilla's "intermediate" profile: the CBC suites Go would also offer
    are obsolete (LUCKY13), and are not agreed to. A server given its own
    list of suites offers that list instead.

    Given a line echo server
    Then a TLS 1.2 client offering only <suite> <outcome>

    Examples:
      | suite                                         | outcome    |
      | TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256       | is served  |
      | TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 | is served  |
      | TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA          | is refused |
      | TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA          | is refused |
      | TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256       | is refused |

  Scenario: Client certificates required: the server closes the connection of a client without one
    Given the server speaks TLS and requires client certificates from the test authority
    And a line echo server
    And the echo client uses line framing and waits at most 5 seconds for an echo
    And the echo client speaks TLS to "localhost", trusting the test authority
    When the echo client sends the message "hello"
    Then the echo client reports that the TLS handshake failed
    And the server closed a connection because of its TLS handshake

  Scenario: Client certificates required: a client with one is served, and named
    Given the server speaks TLS and requires client certificates from the test authority
    And a line echo server
    And the echo client uses line framing and waits at most 5 seconds for an echo
    And the echo client speaks TLS to "localhost", trusting the test authority
    And the echo client presents a certificate for "probe-7" from the test authority
    When the echo client sends the message "hello"
    Then the echo client gets "hello\n" back
    And the server saw the client certificate of "probe-7"
