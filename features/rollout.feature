@rollout
Feature: Watching a service through a rollout
  People put echo services behind a load balancer or a Kubernetes Service
  to see what a change does to the traffic through it (a rolling restart,
  a drained node, a reloaded balancer, an endpoint that moves): did a flow
  stall, for how long, was anything lost or reset, which server answered
  before and after. echobench -mode watch answers that. Its flows, TCP
  connections or UDP sockets, send numbered messages on a fixed schedule
  (-rate in all, 10 a second a flow by default), every echo checked byte
  for byte, and it reports each second and in all what was sent, echoed,
  late, lost, out of order and duplicated; its reconnects; each flow's
  gaps, from its last echo before a silence to its first echo after, with
  what the flow saw meanwhile: a timeout, a reset, a refusal, or the
  connection closed by the server; and which server answered, by the
  identity probe (features/identity.feature).

  A TCP flow whose connection ends connects again at once, as a
  well-behaved client would, and says which server it reached now. A
  connection that ends is a gap however short; otherwise a gap is a
  silence in which the flow waited for an echo for four of its send
  intervals, and at least 200 ms (-gap): a pause in its own sending is not
  one.

  A UDP flow probes with its first message, every second, and after every
  silence, and the echoes after a silence are credited to the server its
  next probe names. -max-gap and -max-lost make the exit status 1 when
  exceeded, so that a rollout can be a CI gate.

  @interop
  Scenario Outline: A watch works against any echo service: socat's over <proto>, which has no identity
    socat's UDP echo starts a process for every datagram, and on a busy
    host one may be lost: the watch counts it lost, and a flow goes on.

    Given socat's echo server over <proto>
    When a watch of 2 <proto> flows runs for 3 seconds
    Then the watch lost <lost>, and no flow's connection ended
    And every echo came from a server without a name
    And the watch exits with status 0

    Examples:
      | proto | lost                            |
      | TCP   | nothing                         |
      | UDP   | at most 1 in 20 of its messages |

  @haproxy
  Scenario: A watch through a balancer names every server behind it
    Given 3 stream echo servers named "echo-a", "echo-b" and "echo-c" behind HAProxy
    When a watch of 6 TCP flows runs through HAProxy for 2 seconds
    Then the watch names the backends "echo-a", "echo-b" and "echo-c"
    And the watch lost nothing, and no flow's connection ended

  @haproxy @process
  Scenario: A server drained behind HAProxy hands its flows to the others and loses nothing it read
    HAProxy checks each server's /readyz every 100 ms. The stopped server
    says "not ready" at once, so HAProxy has taken it out well before the
    drain ends; then it echoes what it read and closes its connections,
    and their flows connect again, to the others.

    Given 3 stream echo servers named "echo-a", "echo-b" and "echo-c" behind HAProxy, each draining for 1 second when stopped
    When a watch of 6 TCP flows runs through HAProxy for 4 seconds
    And "echo-a" is stopped with SIGTERM once it has echoed some of the watch's messages
    Then "echo-a" exits with status 0
    And every message "echo-a" read came back to the watch
    And the flows "echo-a" served moved to "echo-b" and "echo-c", each within 500 milliseconds, closed by the server
    And in the watch's last second only "echo-b" and "echo-c" answered

  @haproxy @process
  Scenario: A server killed behind HAProxy: its flows connect again, and their gaps say why
    Given 3 stream echo servers named "echo-a", "echo-b" and "echo-c" behind HAProxy
    When a watch of 6 TCP flows runs through HAProxy for 5 seconds
    And "echo-a" is killed with SIGKILL once it has echoed some of the watch's messages
    Then the flows "echo-a" served moved to "echo-b" and "echo-c", each within 4500 milliseconds, closed by the server or reset
    And in the watch's last second only "echo-b" and "echo-c" answered

  @udp @process
  Scenario: A UDP server paused for a second is a gap of about a second, which -max-gap turns into a failure
    Given a UDP echo server named "echo-u"
    When a watch of 2 UDP flows runs for 4 seconds, with -max-gap 500ms
    And "echo-u" is paused with SIGSTOP for 1 second once it has echoed some of the watch's messages
    Then the watch's longest gap is 800 to 1600 milliseconds, a timeout
    And the watch exits with status 1, its last line:
      """
      echobench: the watch exceeded its limit: the longest gap, <duration> on flow <n> (timeout), is longer than -max-gap 500ms
      """

  @udp @process @netns
  Scenario: The Kubernetes UDP blackhole: a flow keeps going to a stopped endpoint while its conntrack entry lasts
    kube-proxy sends a Service's virtual address on to an endpoint with a
    DNAT rule. When the endpoint changes it rewrites the rule, but a UDP
    flow already under way keeps the translation its conntrack entry
    holds, and goes on to the old endpoint, which refuses it, until the
    entry is deleted (kubernetes#59033, #102618). Reproduced here in a
    network namespace of the scenario's own.

    Given a network namespace where UDP to 10.96.0.10:7 goes, by a DNAT rule, to a UDP echo server named "echo-a"
    And a second UDP echo server named "echo-b" in the namespace
    When a watch of 2 UDP flows runs in the namespace, to 10.96.0.10:7, for 6 seconds
    And once "echo-a" has answered each of the watch's flows, the rule is switched to "echo-b" and "echo-a" is stopped
    Then the watch's 2 flows are refused, and silent for 1 second or more, while the conntrack entries last

  @udp @process @netns
  Scenario: The Kubernetes UDP blackhole: once the conntrack entries are deleted, each flow moves to the new endpoint with one gap
    Given a network namespace where UDP to 10.96.0.10:7 goes, by a DNAT rule, to a UDP echo server named "echo-a"
    And a second UDP echo server named "echo-b" in the namespace
    And a watch of 2 UDP flows runs in the namespace, to 10.96.0.10:7, for 6 seconds
    And once "echo-a" has answered each of the watch's flows, the rule is switched to "echo-b" and "echo-a" is stopped
    And the watch's 2 flows are refused, and silent for 1 second or more, while the conntrack entries last
    When the conntrack entries for 10.96.0.10 are deleted
    Then each of the watch's 2 flows has one gap, a refusal, from "echo-a" to "echo-b"
    And in the watch's last second only "echo-b" answered
