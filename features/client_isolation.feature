@tcp
Feature: Every client is served on its own
  An echo server serves many clients at once, each on its own connection,
  and nothing one client does reaches another: each gets back only its own
  bytes, and when a client leaves, however it leaves, only its own
  connection ends. The server outlives every client.

  The article's line server panicked when a client disconnected, and the
  panic ended the whole process: one client leaving cut off every other.

  Each scenario runs once with each framing.

  Scenario Outline: Client disconnects: only its own connection ends (<framing> server)
    Given a <framing> echo server
    And client A sends "hello\n" and receives it back
    And client B is connected
    When client A disconnects
    Then the server saw client A's connection end because the client closed it
    And client B is still served: "still there?\n" comes back

    Examples:
      | framing      |
      | stream       |
      | line         |
      | fixed        |

  Scenario Outline: Client resets: only its own connection ends (<framing> server)
    A reset is how a connection ends when a program crashes or a middlebox
    gives up on it: the client's side vanishes without the usual goodbye.

    Given a <framing> echo server
    And the server has received "half a li" from client A
    And client B is connected
    When client A resets its connection
    Then the server saw client A's connection end because it was reset
    And client B is still served: "still there?\n" comes back

    Examples:
      | framing      |
      | stream       |
      | line         |
      | fixed        |

  Scenario Outline: A reset before the client sent anything is a reset too (<framing> server)
    Whenever the reset comes, even before the server first looked at the
    connection, the server reports it in the same words.

    Given a <framing> echo server
    And the server is too busy to accept connections
    And client A connects
    When client A resets its connection
    And the server accepts connections again
    Then the server saw client A's connection end because it was reset

    Examples:
      | framing      |
      | stream       |
      | line         |
      | fixed        |

  Scenario Outline: 50 clients at once: each gets back only its own lines (<framing> server)
    Given a <framing> echo server
    When 50 clients each send 20 lines at the same time
    Then every client receives exactly its own lines, in order
    And the server saw 50 connections

    Examples:
      | framing      |
      | stream       |
      | line         |
      | fixed        |
