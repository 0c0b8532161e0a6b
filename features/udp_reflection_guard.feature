@udp @guard
Feature: UDP reflection guard
  Two UDP services that answer every datagram, say two echo servers, or an
  echo server and a chargen server, will answer each other forever once one
  forged datagram, sent from one service's port to the other's, starts
  them (CVE-1999-0103). Each reply is a new request, so the loop never ends
  and floods the network between them.

  So the echo server does not answer datagrams whose source could be such a
  service: a port below 1024, where echo (7), daytime (13), chargen (19)
  and friends live, and port 2049 (NFS), as OpenBSD's inetd refuses them;
  nor a broadcast, multicast or unspecified source address, which no single
  host has. It counts every datagram it refuses, tells its observer, and
  logs the refusals at most once a second, so a flood cannot flood the log.
  xinetd's built-in echo has no such guard; the article's server neither.
  The guard can be turned off (udpserver -guard=false) where no datagram
  can be forged.

  Scenarios with ports below 1024 need root or CAP_NET_BIND_SERVICE to bind
  the client's port; without them they are skipped and say so.

  Background:
    Given a UDP echo server

  Scenario Outline: Service port <port>: no reply, so no loop can start
    When a client on port <port> sends the datagram "are you a loop?"
    Then the server refuses the datagram from port <port> because <reason>
    And a client on an ordinary port still gets "hello" back
    And the client on port <port> received nothing

    Examples:
      | port | reason               |
      | 7    | it is a service port |
      | 19   | it is a service port |
      | 1023 | it is a service port |
      | 2049 | it is the NFS port   |

  Scenario Outline: Guard turned off: port <port> is answered
    Given the reflection guard is turned off
    When a client on port <port> sends the datagram "hello"
    Then the client on port <port> receives the datagram "hello"

    Examples:
      | port |
      | 7    |
      | 2049 |
