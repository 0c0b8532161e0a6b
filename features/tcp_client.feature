@tcp @client
Feature: The echo client checks every echo
  The echo client (the tcpclient command, or Client in the tcpecho Go
  package) sends messages to an echo server and checks that each comes back
  exactly as it was sent. That makes it a probe: it tells a working echo
  service, or a working network path to one, from a broken one, and says
  what is wrong.

  With line framing the client ends each message with a newline, because
  that is what a line server waits for. The article's client never sent the
  newline, so its own line server never saw a line end and never answered.

  Background:
    Given the echo client uses line framing and waits at most 5 seconds for an echo

  Scenario: Newline: the client ends each message with one
    Given a line echo server
    When the echo client sends the message "hello"
    Then the echo client gets "hello\n" back
    And the server saw the message "hello\n"

  Scenario: Fixed framing: the client sends pieces no larger than the buffer
    The client waits for each piece's echo before it sends the next, so a
    fixed server sees exactly those pieces as its messages.

    Given a fixed echo server
    And the echo client uses fixed framing with pieces of at most 4 bytes
    When the echo client sends the message "abcdefghij"
    Then the echo client gets "abcdefghij" back
    And the server saw the messages "abcd", "efgh" and "ij"

  Scenario: Echo differs: reported
    Given a broken server that answers every line with "nope\n"
    When the echo client sends the message "hello"
    Then the echo client reports that the echo differs

  Scenario: Bytes after the last echo: reported
    The article's fixed-buffer server writes back its whole 4-byte buffer,
    so "abc" comes back as "abc" and a zero byte. The three bytes the client
    waits for match; the client still catches the fourth when it finishes.

    Given the article's fixed-buffer server
    And the echo client uses fixed framing with pieces of at most 4 bytes
    When the echo client sends the message "abc"
    And the echo client finishes
    Then the echo client reports that the echo differs

  Scenario: Silent server: reported when the wait runs out
    Given a server that accepts connections but never answers
    And the echo client waits at most 200 milliseconds for an echo
    When the echo client sends the message "hello"
    Then the echo client reports that it timed out

  Scenario: No server: reported at once
    Given an address where no server listens
    When the echo client sends the message "hello"
    Then the echo client reports that the connection was refused
    And tcpclient exits with status 1, saying:
      """
      tcpclient: connect to <address>: connection refused
      """
