@tcp @line
Feature: Line-framed TCP echo
  A line echo server takes each line a client sends, up to and including its
  newline ("\n"), as one message, and writes the line back byte for byte,
  newline included. Because the newline comes back, a client knows where
  each echo ends: it can send a line and wait for exactly that line, the way
  chat clients and line-based protocols work.

  The article's line server read with bufio's ReadLine, which drops the
  newline: "hello\nworld\n" came back as "helloworld", and no client could
  tell where one echo ended. These scenarios catch that.

  Background:
    Given a line echo server

  Scenario: Line: comes back with its newline
    When a client sends "hello\n"
    Then the client receives "hello\n"
    And the server saw the message "hello\n"

  Scenario: Two lines in one write: two messages, echoed in order
    When a client sends "hello\nworld\n"
    Then the client receives "hello\nworld\n"
    And the server saw the messages "hello\n" and "world\n"

  Scenario: Line split across writes: one message
    When a client sends "hel", "lo wor" and "ld\n", each arriving on its own
    Then the client receives "hello world\n"
    And the server saw the message "hello world\n"

  Scenario: CRLF: the carriage return comes back too
    When a client sends "hello\r\n"
    Then the client receives "hello\r\n"
    And the server saw the message "hello\r\n"

  Scenario: Last line without a newline: comes back when the client finishes
    When a client sends "hello\nbye"
    And the client finishes sending
    Then the client receives "hello\nbye" and then the end of the stream
    And the server saw the messages "hello\n" and "bye"

  Scenario Outline: Any script, or bytes that are no text: come back unchanged
    When a client sends "<line>\n"
    Then the client receives "<line>\n"

    Examples:
      | line           |
      | 你好，世界      |
      | Grüße, Welt    |
      | 👋🌍           |
      | \x00\xff\xfe\t |

  Scenario Outline: Line over the maximum: echoed on in pieces
    The server never holds more than the longest line (newline included) for
    one line. A longer line still comes back whole, byte for byte; the server
    just takes it as several messages of at most the longest line each, and
    the connection stays open.

    Given the server's longest line is <longest> bytes
    When a client sends a line of <length> bytes and its newline
    Then the client receives that line back
    And the server saw messages of <sizes> bytes
    And the client is still served: "next\n" comes back

    Examples:
      | longest | length | sizes        |
      | 16      | 40     | 16, 16 and 9 |
      | 16      | 15     | 16           |
      | 16      | 16     | 16 and 1     |

  Scenario Outline: Default maximum: a line of 64 KiB
    When a client sends a line of <length> bytes and its newline
    Then the client receives that line back
    And the server saw messages of <sizes> bytes

    Examples:
      | length | sizes           |
      | 65535  | 65536           |
      | 100000 | 65536 and 34465 |
