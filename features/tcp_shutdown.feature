@tcp @shutdown
Feature: Graceful shutdown
  Stopping an echo server (SIGINT or SIGTERM to tcpserver, Shutdown in Go)
  must not cut off what clients already sent. The server stops accepting
  connections at once. Each connection then gets back everything the server
  already received from it, even a line still missing its newline, and is
  closed. Connections waiting for their clients are closed at once; only
  connections busy writing an echo are waited for, and only for a while.

  Background:
    Given a line echo server

  Scenario: Unfinished line: comes back before the server closes
    Given the server has received "unfinished" from a client
    When the server shuts down
    Then the client receives "unfinished" and then the end of the stream
    And the server saw the client's connection end because the server shut down

  Scenario: Idle clients: do not hold up the shutdown
    Given 20 clients are connected and idle
    When the server shuts down, giving busy connections 5 seconds
    Then the shutdown finished without needing that time
    And the server saw 20 connections end because the server shut down

  Scenario: New clients: refused once the shutdown begins
    Given a client is connected
    When the server shuts down
    Then a new client cannot connect
