@probe
Feature: A reachability matrix: echoed, refused, unreachable, silent, wrong or not resolved
  The other job people give echo services is testing a firewall or a
  network policy: from here, which of these addresses and ports can I
  reach, over TCP and over UDP, and is each allowed, rejected or dropped?
  With an echo service behind each target the answers are distinct, and
  echobench probe reports them for many targets at once:

  - echoed: the exact bytes came back (allowed, and an echo answered);
  - refused: a TCP reset, or ICMP port unreachable (rejected, or nothing
    listens);
  - unreachable: ICMP host or network unreachable, or no route;
  - silent: nothing within the timeout, after the retries (dropped, or no
    one there);
  - wrong: an answer that is not the echo (another service answered);
  - dns: the name did not resolve.

  A target is tcp://HOST:PORT or udp://HOST:PORT, optionally with what is
  expected of it: =allow wants echoed; =deny accepts refused, unreachable
  or silent. The exit status is 1 when any verdict contradicts its
  expectation, 0 otherwise. Each target waits -timeout (1 s) a try; a UDP
  target gets -retries (2) more datagrams when one brings nothing back, so
  that a datagram lost on the way is not called a drop. Every target is
  probed at once. In the examples below, a name in angle brackets (the tcp
  server, a closed port) stands for an address the scenario made.

  Scenario: Our servers are echoed, over TCP and over UDP, as expected
    When echobench probes:
      """
      tcp://<tcp server>=allow
      udp://<udp server>=allow
      """
    Then the matrix says:
      | target                   | verdict |
      | tcp://<tcp server>=allow | echoed  |
      | udp://<udp server>=allow | echoed  |
    And the probe exits with status 0

  Scenario: A closed port is refused, over TCP by a reset and over UDP by ICMP port unreachable
    When echobench probes:
      """
      tcp://<a closed port>=deny
      udp://<a closed port>=deny
      """
    Then the matrix says:
      | target                     | verdict |
      | tcp://<a closed port>=deny | refused |
      | udp://<a closed port>=deny | refused |
    And the probe exits with status 0

  Scenario: A UDP service that never answers is silent, after its retries
    Given a UDP socket that reads every datagram and never answers
    When echobench probes:
      """
      udp://<a silent UDP socket>
      """
    Then the matrix says:
      | target                      | verdict |
      | udp://<a silent UDP socket> | silent  |

  @interop
  Scenario: A service that is not an echo is wrong
    Given a TCP service that answers in capitals: socat with EXEC:'tr a-z A-Z'
    When echobench probes:
      """
      tcp://<capitals>
      """
    Then the matrix says:
      | target           | verdict |
      | tcp://<capitals> | wrong   |

  Scenario: A name that does not resolve is dns
    When echobench probes:
      """
      tcp://no-such-host.invalid:7
      """
    Then the matrix says:
      | target                       | verdict |
      | tcp://no-such-host.invalid:7 | dns     |

  Scenario Outline: A datagram lost on the way is <outcome>
    Given a path to the UDP server that loses the first datagram each way
    When echobench probes with -retries <retries>:
      """
      udp://<the lossy path>
      """
    Then the matrix says:
      | target                 | verdict   |
      | udp://<the lossy path> | <verdict> |

    Examples:
      | outcome                                 | retries | verdict |
      | retried, and the third datagram echoed  | 2       | echoed  |
      | a drop to a probe that does not retry   | 0       | silent  |

  Scenario: A verdict that contradicts its expectation makes the exit status 1
    When echobench probes:
      """
      tcp://<a closed port>=allow
      """
    Then the probe exits with status 1, its last line:
      """
      echobench: verdicts contradict their expectations: 1 of 1: tcp://<a closed port> wants allow, is refused
      """

  @process @netns
  Scenario: Behind a firewall, allowed, dropped and rejected come out different, over TCP and over UDP
    This is what nc cannot tell apart over UDP: a datagram dropped and one
    rejected both bring no answer, but a rejected one brings an ICMP error,
    which the probe reads.

    Given a network namespace where TCP and UDP echo servers listen on 127.0.0.1 ports 7001, 7002 and 7003, and iptables drops port 7002 and rejects port 7003
    When echobench probes in the namespace:
      """
      tcp://127.0.0.1:7001=allow
      udp://127.0.0.1:7001=allow
      tcp://127.0.0.1:7002=deny
      udp://127.0.0.1:7002=deny
      tcp://127.0.0.1:7003=deny
      udp://127.0.0.1:7003=deny
      """
    Then the matrix says:
      | target                     | verdict |
      | tcp://127.0.0.1:7001=allow | echoed  |
      | udp://127.0.0.1:7001=allow | echoed  |
      | tcp://127.0.0.1:7002=deny  | silent  |
      | udp://127.0.0.1:7002=deny  | silent  |
      | tcp://127.0.0.1:7003=deny  | refused |
      | udp://127.0.0.1:7003=deny  | refused |
    And the probe exits with status 0

  @process @netns
  Scenario: Behind a firewall, a port expected open but dropped makes the exit status 1
    Given a network namespace where TCP and UDP echo servers listen on 127.0.0.1 ports 7001, 7002 and 7003, and iptables drops port 7002 and rejects port 7003
    When echobench probes in the namespace:
      """
      tcp://127.0.0.1:7001=allow
      udp://127.0.0.1:7002=allow
      """
    Then the probe exits with status 1, its last line:
      """
      echobench: verdicts contradict their expectations: 1 of 2: udp://127.0.0.1:7002 wants allow, is silent
      """

  @process @netns
  Scenario: Behind a firewall that answers "host unreachable", the target is unreachable
    Given a network namespace where TCP and UDP echo servers listen on 127.0.0.1 ports 7001, 7002 and 7003, and iptables drops port 7002 and rejects port 7003
    And iptables there also rejects port 7004 with ICMP host unreachable
    When echobench probes in the namespace:
      """
      tcp://127.0.0.1:7004=deny
      udp://127.0.0.1:7004=deny
      """
    Then the matrix says:
      | target                    | verdict     |
      | tcp://127.0.0.1:7004=deny | unreachable |
      | udp://127.0.0.1:7004=deny | unreachable |
    And the probe exits with status 0
