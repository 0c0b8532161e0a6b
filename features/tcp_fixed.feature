@tcp @fixed
Feature: Fixed TCP echo
  A fixed echo server takes whatever a client sends, at most the largest
  message (-size, 4 bytes unless set otherwise) at a time, as one message, and writes back exactly
  the bytes it took: none missing, none added, in the order they came. It
  knows nothing of where a client's own messages start or end, which makes
  it the plainest way to watch TCP carry a stream of bytes, not messages.

  The server in the article this project grew from wrote back its whole
  4-byte buffer after every read, so a short read came back padded with
  zeros, or with bytes left over from the read before: "abc" came back as
  "abc\0", and "abcdefghij" as "abcdefghijgh". These scenarios catch that.

  A client "finishes sending" by closing its side of the connection for
  writing. The server then echoes what it still holds and closes its own
  side, so the client knows that nothing more is coming.

  Background:
    Given a fixed echo server

  Scenario: Exact-size message: comes back unchanged
    When a client sends "abcd"
    And the client finishes sending
    Then the client receives "abcd" and then the end of the stream
    And the server saw the message "abcd"

  Scenario: Short message: comes back without stale or zero bytes
    When a client sends "abc"
    And the client finishes sending
    Then the client receives "abc" and then the end of the stream

  Scenario: Short message: comes back at once, without waiting for the buffer to fill
    When a client sends "abc"
    Then the client receives "abc"

  Scenario: Long message: taken as messages of at most 4 bytes that together are what was sent
    When a client sends "abcdefghij"
    And the client finishes sending
    Then the client receives "abcdefghij" and then the end of the stream
    And the server saw the messages "abcd", "efgh" and "ij"

  Scenario: Message after a longer one: carries nothing left over from it
    When a client sends "abcdefgh"
    And the client receives "abcdefgh"
    And the client sends "xy"
    And the client finishes sending
    Then the client receives "xy" and then the end of the stream

  Scenario Outline: -size sets the largest message
    Given the largest message is <size> bytes
    When a client sends "<sent>"
    And the client finishes sending
    Then the client receives "<sent>" and then the end of the stream
    And the server saw <count> messages of at most <size> bytes

    Examples:
      | size | sent                  | count |
      | 1    | abc                   | 3     |
      | 4    | abcdefghij            | 3     |
      | 16   | abcdefghij            | 1     |
      | 16   | abcdefghijklmnopqrstu | 2     |

  Scenario: UTF-8 text: comes back whole, even when messages cut its characters
    # "你好，世界" is 5 characters of 3 bytes each: 15 bytes, 4 messages.
    When a client sends "你好，世界"
    And the client finishes sending
    Then the client receives "你好，世界" and then the end of the stream
    And the server saw 4 messages of at most 4 bytes

  Scenario: Binary data: comes back byte for byte
    When a client sends "\x00\xff\r\n\x00\x80"
    And the client finishes sending
    Then the client receives "\x00\xff\r\n\x00\x80" and then the end of the stream
