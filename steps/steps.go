package steps

import (
	"context"
	"fmt"

	"github.com/cucumber/godog"
)

// InitializeScenario gives each scenario its own state, torn down when the
// scenario ends, and registers every step: this is the one index of them,
// grouped by subject, each a named function in the file the group names
// (go test ./steps -godog.definitions lists them).
func InitializeScenario(sc *godog.ScenarioContext) {
	sc.Before(func(ctx context.Context, s *godog.Scenario) (context.Context, error) {
		if r := resultsFrom(ctx); r != nil {
			r.begin(s.Id)
		}
		ctx = context.WithValue(ctx, scenarioIDKey{}, s.Id)
		return context.WithValue(ctx, worldKey{}, newWorld(targetFrom(ctx))), nil
	})
	sc.After(func(ctx context.Context, s *godog.Scenario, err error) (context.Context, error) {
		cerr := worldFrom(ctx).close()
		if r := resultsFrom(ctx); r != nil {
			r.end(s.Id)
		}
		if cerr != nil && err == nil {
			return ctx, cerr
		}
		return ctx, nil
	})

	// A server too busy to accept (busy_steps.go)
	sc.Step(`^the server is too busy to accept connections$`, serverIsTooBusyAcceptConnections)
	sc.Step(`^the server accepts connections again$`, serverAcceptsConnectionsAgain)

	// The project's TCP client (client_steps.go)
	sc.Step(`^the echo client uses (line|fixed) framing and waits at most (\d+) seconds? for an echo$`, echoClientUsesFramingWaitsAtMostN)
	sc.Step(`^the echo client uses fixed framing with pieces of at most (\d+) bytes$`, echoClientUsesFixedFramingWithPiecesAt)
	sc.Step(`^the echo client waits at most (\d+) milliseconds for an echo$`, echoClientWaitsAtMostNMillisecondsFor)
	sc.Step(`^a broken server that answers every line with `+quoted+`$`, brokenServerThatAnswersEveryLineWithText)
	sc.Step(`^a server that accepts connections but never answers$`, serverThatAcceptsConnectionsButNeverAnswers)
	sc.Step(`^the article's fixed-buffer server$`, articleFixedBufferServer)
	sc.Step(`^an address where no server listens$`, addressWhereNoServerListens)
	sc.Step(`^the echo client sends the message `+quoted+`$`, echoClientSendsMessageText)
	sc.Step(`^the echo client finishes$`, echoClientFinishes)
	sc.Step(`^the echo client gets `+quoted+` back$`, echoClientGetsTextBack)
	sc.Step(`^the echo client reports that (the echo differs|it timed out|the connection was refused|the TLS handshake failed|the connection was reset|the server closed the connection before the echo came)$`, echoClientReportsThat)

	// TLS: certificates from a test authority, what the server saw (tls_steps.go)
	sc.Step(`^the server speaks TLS with a certificate from the test authority$`, serverSpeaksTLS)
	sc.Step(`^the server speaks TLS and requires client certificates from the test authority$`, serverRequiresClientCertificates)
	sc.Step(`^the server gives up on a connection's handshake after (\d+) milliseconds$`, serverGivesUpOnHandshakeAfter)
	sc.Step(`^the echo client speaks TLS to "([^"]*)", trusting the test authority$`, echoClientSpeaksTLSTrustingTestAuthority)
	sc.Step(`^the echo client speaks TLS to "([^"]*)", trusting another authority$`, echoClientSpeaksTLSTrustingAnotherAuthority)
	sc.Step(`^the echo client presents a certificate for "([^"]*)" from the test authority$`, echoClientPresentsCertificateFor)
	sc.Step(`^the server saw a (TLS 1\.[23]) connection for "([^"]*)"$`, serverSawTLSConnectionFor)
	sc.Step(`^the server saw the client certificate of "([^"]*)"$`, serverSawClientCertificateOf)
	sc.Step(`^the server refused `+client+`'s connection because of its (TLS handshake|PROXY header)$`, serverRefusedClientBecause)
	sc.Step(`^the server refused a connection because of its (TLS handshake|PROXY header)$`, serverRefusedConnectionBecause)

	// The PROXY protocol: clients behind a balancer (proxy_steps.go)
	sc.Step(`^the server reads a PROXY header (from every connection|where one comes)(?:, only from (\S+))?$`, serverReadsProxyHeaders)
	sc.Step(`^`+client+` comes through a balancer that names it (\S+) in a PROXY (v1|v2) header$`, clientComesThroughBalancerNamingIt)
	sc.Step(`^`+client+` sends a PROXY header that is not one$`, clientSendsBrokenProxyHeader)
	sc.Step(`^the server saw `+client+` as (\S+), through the balancer$`, serverSawClientAsThroughBalancer)
	sc.Step(`^the server saw `+client+` by its own address, with no balancer$`, serverSawClientByOwnAddress)
	sc.Step(`^the echo client sends a PROXY (v1|v2) header first$`, echoClientSendsProxyHeaderFirst)

	// HAProxy in front of our servers (haproxy_steps.go)
	sc.Step(`^HAProxy sends each server a PROXY (v1|v2) header$`, haproxySendsProxyHeader)
	sc.Step(`^HAProxy checks each server by sending `+quoted+` and expecting it back$`, haproxyChecksEachServerBySending)
	sc.Step(`^HAProxy terminates TLS with a certificate from the test authority$`, haproxyTerminatesTLS)
	sc.Step(`^HAProxy balances round robin over (\d+) such servers?(?: and a server that answers every line with `+quoted+`)?$`, haproxyBalancesRoundRobin)
	sc.Step(`^each of the (\d+) servers served (\d+) of the clients$`, eachServerServedNOfClients)
	sc.Step(`^the servers saw `+clientList+` by their own addresses, through HAProxy$`, eachServerSawClientsOwnAddresses)
	sc.Step(`^HAProxy sees (\d+) servers? up(?: and (\d+) down)?$`, haproxySeesServersUp)

	// A faulty link: Toxiproxy for TCP, a relay for UDP (faults_steps.go)
	sc.Step(`^the link to the server adds (\d+) milliseconds each way$`, linkAddsLatency)
	sc.Step(`^the link to the server carries at most (\d+) KiB per second each way$`, linkCarriesAtMost)
	sc.Step(`^the link to the server cuts the data into pieces of about (\d+) bytes?$`, linkCutsDataIntoPieces)
	sc.Step(`^the link to the server resets every connection that sends something$`, linkResetsConnections)
	sc.Step(`^the link to the server goes silent$`, linkGoesSilent)
	sc.Step(`^the echo client reports a round trip of at least (\d+) milliseconds$`, echoClientReportsRoundTripOfAtLeast)
	sc.Step(`^echobench runs ping-pong with (\d+) connections? for (\d+) seconds?$`, echobenchMeasuresLatencyThroughLink)
	sc.Step(`^echobench reports a median latency of at least (\d+) milliseconds, and no errors$`, echobenchReportsMedianLatencyOfAtLeast)
	sc.Step(`^the server saw a connection end because (the client closed it|it was reset|the server shut down|it was idle|it stopped reading)$`, serverSawAConnectionEndBecause)
	sc.Step(`^the path to the UDP server drops (\d+) of every 10 datagrams each way, and sends every echo twice, out of order$`, udpPathMistreatsDatagrams)
	sc.Step(`^the UDP echo client sends (\d+) numbered messages$`, udpEchoClientSendsNumberedMessages)
	sc.Step(`^the UDP echo client gets each of them back, once, in order$`, udpEchoClientGetsEachBackOnceInOrder)

	// Many clients at once (crowd_steps.go)
	sc.Step(`^(\d+) clients each send (\d+) lines at the same time(?:, all within (\d+) seconds)?$`, nClientsEachSendNLinesAtSame)
	sc.Step(`^every idle client sends a line and reads its echo$`, everyIdleClientSendsLineReadsEcho)
	sc.Step(`^every client receives exactly its own lines, in order$`, everyClientReceivesExactlyOwnLinesInOrder)
	sc.Step(`^(\d+) clients are connected and idle$`, nClientsAreConnectedIdle)
	sc.Step(`^(\d+) clients connect, each has a line echoed, and all stay silent$`, nClientsConnectEachHasLineEchoedAndStaySilent)
	sc.Step(`^the server's resident memory grew by less than (\d+) MiB while they connected$`, serverMemoryGrewByLessThanNMib)
	sc.Step(`^every silent client still has a line echoed$`, everySilentClientStillHasLineEchoed)

	// The server's environment: logs and event streams nobody reads (environment_steps.go)
	sc.Step(`^(tcpserver|udpserver) is running with -v, and the reader of its log leaves after the line that says where it listens$`, serverRunsWithVAndItsLogReaderLeaves)
	sc.Step(`^(tcpserver|udpserver) is running with -v, and nobody reads its log after the line that says where it listens$`, serverRunsWithVAndNobodyReadsItsLog)
	sc.Step(`^tcpserver is running with its events going to a FIFO that nobody opens$`, tcpserverIsRunningWithEventsGoingFifoThat)
	sc.Step(`^tcpserver is running with "([^"]*)" and its events going to a FIFO whose reader never reads$`, tcpserverIsRunningWithEventsGoingFifoWhose)
	sc.Step(`^tcpserver is running with its events going to a FIFO$`, tcpserverIsRunningWithEventsGoingFifo)
	sc.Step(`^a reader of the FIFO sees `+client+` connect, and leaves$`, readerFifoSeesClientConnectLeaves)
	sc.Step(`^a new reader of the FIFO sees `+client+`'s connection open and close$`, newReaderFifoSeesClientConnectionOpenClose)
	sc.Step(`^(\d+) clients in turn each send a line and receive it back$`, nClientsInTurnEachSendLineReceive)
	sc.Step(`^(tcpserver|udpserver) is still running$`, serverProcessIsStillRunning)
	sc.Step(`^when (tcpserver|udpserver) gets (SIGTERM|SIGINT|SIGHUP) it exits with status (\d+)$`, whenSignalledExitsWithStatus)
	sc.Step(`^it exited within (\d+) seconds? of the signal$`, exitedWithinNSecondsSignal)
	sc.Step(`^its last log line counts the events it dropped$`, lastLogLineCountsEventsDropped)
	sc.Step(`^the server's event stream says that its log failed$`, serverEventStreamSaysThatLogFailed)

	// fortio, a load tool (fortio_steps.go)
	sc.Step(`^fortio makes (\d+) calls of (\d+) bytes over (TCP|UDP), (\d+) connections at (\d+) calls a second$`, fortioMakesNCallsNBytesOverN)
	sc.Step(`^fortio reports (\d+) calls, all OK, and got back every byte it sent$`, fortioReportsNCallsAllOkGotBack)

	// What clients make the server hold, and from which addresses (holding_steps.go)
	sc.Step(`^the server holds at most (\d+) KiB for all clients together$`, serverHoldsAtMostNKibForAll)
	sc.Step(`^the server has received (\d+) KiB of a line without its newline from each of `+clientList+`$`, serverHasReceivedUnfinishedLines)
	sc.Step(`^`+clientList+` each send its newline$`, clientsEachSendNewline)
	sc.Step(`^`+clientList+` each receive their whole line back$`, clientsEachReceiveTheirWholeLineBack)
	sc.Step(`^the server echoed (\d+) unfinished lines? before (?:its|their) newline came, to stay within the budget$`, serverEchoedNUnfinishedLinesBeforeNewlineCame)
	sc.Step(`^tcpserver -framing (stream|line|fixed) is running with its other defaults and no event stream$`, tcpserverFramingIsRunningWithOtherDefaultsNo)
	sc.Step(`^(\d+) clients each send (\d+) KiB of a line without its newline$`, nClientsEachSendNKibLineWithout)
	sc.Step(`^a new client is served within (\d+) seconds?: `+quoted+` comes back$`, newClientIsServedWithin)
	sc.Step(`^each of them sends its newline and receives its whole line back$`, eachThemSendsNewlineReceivesWholeLineBack)
	sc.Step(`^the server accepts at most (\d+) connections from one address$`, serverAcceptsAtMostNConnectionsFromOne)
	sc.Step(`^`+clientList+` are connected from (127\.\d+\.\d+\.\d+)$`, clientsAreConnectedFromN)
	sc.Step(`^`+client+` connects from (127\.\d+\.\d+\.\d+)$`, clientConnectsFromN)
	sc.Step(`^the server saw (\d+) connections? rejected for too many from one address$`, serverSawNConnectionsRejectedForTooMany)
	sc.Step(`^`+client+` sends lines without end, reading the echo for (\d+) milliseconds, then stops reading$`, clientSendsLinesWithoutEndReadingEchoFor)
	sc.Step(`^the server let `+client+` go because it stopped reading, (\d+) to (\d+) milliseconds after its last read$`, serverLetClientGoBecauseStoppedReadingN)

	// Tools that are not ours: nc, socat, xinetd (interop_steps.go)
	sc.Step(`^(nc|socat) sends `+quoted+` over TCP$`, toolSendsTextOverTCP)
	sc.Step(`^(nc|socat) sends (\d+) (KiB|MiB) of random bytes over TCP$`, toolSendsRandomBytesOverTCP)
	sc.Step(`^(nc|socat) sends the datagram `+quoted+` over UDP$`, toolSendsDatagramOverUDP)
	sc.Step(`^(nc|socat|openssl s_client|ncat --ssl) prints exactly `+quoted+`$`, toolPrintsExactlyText)
	sc.Step(`^(openssl s_client|ncat --ssl) sends `+quoted+` over TLS$`, tlsToolSendsOverTLS)
	sc.Step(`^socat's TLS echo server, with a certificate from the test authority$`, socatsTLSEchoServer)
	sc.Step(`^(nc|socat) prints exactly what it sent$`, toolPrintsExactlyWhatItSent)
	sc.Step(`^socat's echo server over (TCP|UDP)$`, socatEchoServerOver)
	sc.Step(`^xinetd's built-in echo$`, xinetdBuiltInEcho)

	// Limits: too many connections, idle clients, clients that stop reading (limits_steps.go)
	sc.Step(`^the server accepts at most (\d+) connections at once$`, serverAcceptsAtMostNConnectionsAtOnce)
	sc.Step(`^the server closes connections idle for (\d+) milliseconds$`, serverClosesConnectionsIdleForNMilliseconds)
	sc.Step(`^the server gives up on a client that reads none of its echo for (\d+) milliseconds$`, serverGivesUpOnClientThatReadsNone)
	sc.Step(`^`+clientList+` are connected$`, clientsAreConnected)
	sc.Step(`^`+client+` connects$`, connects)
	sc.Step(`^`+client+` finds its connection closed by the server$`, clientFindsConnectionClosedByServer)
	sc.Step(`^the server saw (\d+) connections? rejected for being over the limit$`, serverSawNConnectionsRejectedForBeingOver)
	sc.Step(`^`+clientList+` are still served$`, clientsAreStillServed)
	sc.Step(`^the server closed `+client+`'s connection after at least (\d+) milliseconds, because it was idle$`, serverClosedClientConnectionAfterAtLeastN)
	sc.Step(`^`+client+`'s connection is still open$`, clientConnectionIsStillOpen)
	sc.Step(`^`+client+`, which never reads, sends (\d+) MiB$`, clientWhichNeverReadsSendsNMib)
	sc.Step(`^the server has read (\d+) MiB from `+client+`$`, serverHasReadNMibFromClient)
	sc.Step(`^the server took in less than (\d+) MiB of the (\d+) MiB `+client+` sent$`, serverTookInLessThanNMibN)
	sc.Step(`^`+client+` sends (\d+) MiB of random bytes, reading the echo slowly, and finishes sending$`, clientSendsNMibRandomBytesReadingEcho)
	sc.Step(`^tcpserver's peak resident memory stayed under (\d+) MiB$`, tcpserverPeakResidentMemoryStayedUnderNMib)

	// What only a process has: signals, exit statuses, its output (process_steps.go)
	sc.Step(`^(tcpserver|udpserver) is running$`, serverProcessIsRunning)
	sc.Step(`^tcpserver -framing (stream|line|fixed) is running$`, tcpserverFramingIsRunning)
	sc.Step(`^(tcpserver|udpserver) gets (SIGTERM|SIGINT|SIGHUP)$`, serverProcessGetsSignal)
	sc.Step(`^an address that is taken$`, addressThatIsTaken)
	sc.Step(`^(tcpserver|udpserver) is started on that address$`, serverProcessIsStartedOnThatAddress)
	sc.Step(`^(tcpserver|udpserver|tcpclient|udpclient) is started with "([^"]*)"$`, binaryIsStartedWith)
	sc.Step(`^it exits with status (\d+)$`, binaryExitsWithStatus)
	sc.Step(`^its only output is the line "([^"]*)"$`, binaryOnlyOutputIsLine)
	sc.Step(`^its first line is "(.*)", then its usage$`, binaryFirstLineIsThenUsage)

	// Running it for real: metrics, readiness, drain, socket activation (ops_steps.go)
	sc.Step(`^tcpserver -framing (stream|line|fixed) is running with an admin endpoint(?: and -drain-delay (\d+)s)?$`, tcpserverRunsWithAdmin)
	sc.Step(`^udpserver is running with an admin endpoint$`, udpserverRunsWithAdmin)
	sc.Step(`^a (stream|line) echo server that drains for (\d+) seconds? when stopped$`, serverDrainsWhenStopped)
	sc.Step(`^HAProxy checks each server's /readyz on its admin endpoint$`, haproxyChecksReadiness)
	sc.Step(`^a client sends (\d+) lines and receives each back$`, clientSendsNLines)
	sc.Step(`^a client sends (\d+) datagrams and receives each back$`, clientSendsNDatagrams)
	sc.Step(`^the admin endpoint's metrics pass promtool's check$`, metricsPassPromtool)
	sc.Step(`^the metric (\S+) is (\d+)$`, metricIs)
	sc.Step(`^(tcpserver|udpserver) is sent (SIGTERM|SIGINT|SIGHUP)$`, serverIsSentSignal)
	sc.Step(`^its /readyz answers (\d+) within (\d+) milliseconds$`, readyzAnswersWithin)
	sc.Step(`^new clients are still served until (\d+) seconds? after the signal$`, newClientsServedUntil)
	sc.Step(`^it exits with status (\d+), no sooner than (\d+) seconds? after the signal$`, exitsNoSoonerThan)
	sc.Step(`^clients keep connecting through HAProxy, one line each$`, clientsKeepConnecting)
	sc.Step(`^every client through HAProxy was served, none refused$`, everyClientServed)
	sc.Step(`^(tcpserver|udpserver) is started by systemd-socket-activate on a free port$`, startedBySocketActivation)
	sc.Step(`^a client is served through that socket: `+quoted+` comes back$`, servedThroughPassedSocket)

	// Echoes that must not wait for a line end (prompt_steps.go)
	sc.Step(`^`+client+` sends `+quoted+` and keeps its side open$`, clientSendsTextKeepsSideOpen)
	sc.Step(`^`+client+` sends (\d+) (KiB|MiB) of random bytes with no line end and keeps its side open$`, clientSendsNRandomBytesWithNoLine)
	sc.Step(`^`+client+` receives the same bytes back within (\d+) seconds?$`, clientReceivesSameBytesBackWithin)

	// The TCP echo server and raw clients of it (server_steps.go)
	sc.Step(`^a (stream|fixed-buffer|line) echo server$`, useFraming)
	sc.Step(`^the server's buffer holds (\d+) bytes?$`, serverBufferHoldsNBytes)
	sc.Step(`^the server's longest line is (\d+) bytes$`, serverLongestLineIsNBytes)
	sc.Step(`^`+client+` is connected$`, clientIsConnected)
	sc.Step(`^`+client+` sends `+quoted+`$`, clientSendsText)
	sc.Step(`^the server has received `+quoted+` from `+client+`$`, serverHasReceivedFrom)
	sc.Step(`^`+client+` sends `+quotedList+`, each arriving on its own$`, sendPieces)
	sc.Step(`^`+client+` sends a line of (\d+) bytes and its newline$`, sendLongLine)
	sc.Step(`^`+client+` finishes sending$`, clientFinishesSending)
	sc.Step(`^`+client+` disconnects$`, clientDisconnects)
	sc.Step(`^`+client+` resets its connection$`, clientResetsConnection)
	sc.Step(`^`+client+` receives `+quoted+`$`, receives)
	sc.Step(`^`+client+` receives `+quoted+` and then the end of the stream$`, receivesThenEnd)
	sc.Step(`^`+client+` receives that line back$`, receivesThatLine)
	sc.Step(`^`+client+` sees the end of the stream, nothing before it$`, clientSeesEndStreamNothingBefore)
	sc.Step(`^`+client+` sends `+quoted+` and receives it back$`, clientSendsTextReceivesBack)
	sc.Step(`^`+client+` is (?:still )?served: `+quoted+` comes back$`, clientSendsTextReceivesBack)
	sc.Step(`^`+clientList+` are each served: `+quoted+` comes back$`, clientsAreEachServed)
	sc.Step(`^the server saw the messages? `+quotedList+`$`, sawMessages)
	sc.Step(`^the server saw (\d+) messages? of at most (\d+) bytes$`, sawMessagesOfAtMost)
	sc.Step(`^the server saw messages of `+numberList+` bytes$`, sawMessageSizes)
	sc.Step(`^the server saw no message larger than (\d+) bytes$`, sawNoMessageLargerThan)
	sc.Step(`^the server saw `+client+`'s connection end because (the client closed it|it was reset|the server shut down|it was idle|it stopped reading)$`, sawConnectionEnd)
	sc.Step(`^the server saw (\d+) connections$`, serverSawNConnections)

	// Graceful shutdown (shutdown_steps.go)
	sc.Step(`^the server shuts down$`, serverShutsDown)
	sc.Step(`^the server shuts down, giving busy connections (\d+) seconds$`, serverShutsDownGivingBusyConnectionsNSeconds)
	sc.Step(`^the shutdown finished without needing that time$`, shutdownFinishedWithoutNeedingThatTime)
	sc.Step(`^the server saw (\d+) connections end because the server shut down$`, serverSawNConnectionsEndBecauseServerShut)
	sc.Step(`^a new client cannot connect$`, newClientCannotConnect)

	// RFC 862's streams, against any echo service (stream_steps.go)
	sc.Step(`^an echo service over (TCP|UDP)$`, echoServiceOver)
	sc.Step(`^`+client+` sends `+quoted+` and finishes sending$`, clientSendsTextFinishesSending)
	sc.Step(`^`+client+` sends every byte value from 0 to 255, (\d+) times over, and finishes sending$`, clientSendsEveryByteValueFrom0255)
	sc.Step(`^`+client+` sends (\d+) (KiB|MiB) of random bytes(?: in writes of 1 to (\d+) bytes)? and finishes sending$`, clientSendsNRandomBytesInWrites1)
	sc.Step(`^`+client+` receives exactly what it sent and then the end of the stream$`, clientReceivesExactlyWhatSentThenEndStream)
	sc.Step(`^(\d+) clients each send (\d+) (KiB|MiB) of their own random bytes at the same time and finish sending$`, nClientsEachSendNTheirOwnRandom)
	sc.Step(`^every client receives exactly what it sent and then the end of the stream$`, everyClientReceivesExactlyWhatSentThenEnd)

	// The UDP echo server and raw clients of it (udp_steps.go)
	sc.Step(`^a UDP echo server$`, udpEchoServer)
	sc.Step(`^the reflection guard is turned off$`, reflectionGuardIsTurnedOff)
	sc.Step(`^`+client+` sends the datagram `+quoted+`$`, clientSendsDatagramText)
	sc.Step(`^`+client+` sends an empty datagram$`, clientSendsEmptyDatagram)
	sc.Step(`^`+client+` sends a datagram of (\d+) bytes$`, clientSendsDatagramNBytes)
	sc.Step(`^`+client+` sends the largest datagram$`, clientSendsLargestDatagram)
	sc.Step(`^`+client+` receives the datagram `+quoted+`$`, clientReceivesDatagramText)
	sc.Step(`^`+client+` receives the datagrams `+quotedList+`$`, clientReceivesDatagramsTexts)
	sc.Step(`^`+client+` receives an empty datagram$`, clientReceivesEmptyDatagram)
	sc.Step(`^`+client+` receives that datagram back$`, clientReceivesThatDatagramBack)
	sc.Step(`^a client on port (\d+) sends the datagram `+quoted+`$`, clientOnPortNSendsDatagramText)
	sc.Step(`^the server refuses the datagram from port (\d+) because (it is a service port|it is the NFS port)$`, serverRefusesDatagramFromPortNBecause)
	sc.Step(`^a client on an ordinary port still gets `+quoted+` back$`, clientOnOrdinaryPortStillGetsTextBack)
	sc.Step(`^the client on port (\d+) receives the datagram `+quoted+`$`, clientOnPortNReceivesDatagramText)
	sc.Step(`^the client on port (\d+) received nothing$`, clientOnPortNReceivedNothing)

	// The project's UDP client (udp_steps.go)
	sc.Step(`^the UDP echo client waits (\d+) milliseconds for each echo and retries (\d+) times?$`, udpEchoClientWaitsNMillisecondsForEach)
	sc.Step(`^a UDP server that receives datagrams but never answers$`, udpServerThatReceivesDatagramsButNeverAnswers)
	sc.Step(`^a UDP address where nothing listens$`, udpAddressWhereNothingListens)
	sc.Step(`^the UDP echo client sends `+quoted+`$`, udpEchoClientSendsText)
	sc.Step(`^the UDP echo client took at least (\d+) milliseconds$`, udpEchoClientTookAtLeastNMilliseconds)
	sc.Step(`^the UDP echo client gets `+quoted+` back$`, udpEchoClientGetsTextBack)
	sc.Step(`^the UDP echo client reports no echo after (\d+) attempts(?: because (nothing came in time|the host refused))?$`, udpEchoClientReportsNoEchoAfterN)
	sc.Step(`^the silent server received `+quoted+` (\d+) times$`, silentServerReceivedTextNTimes)
	sc.Step(`^(\d+) UDP echo clients each send (\d+) messages at the same time$`, udpCrowdSends)
	sc.Step(`^every UDP echo client gets its own messages back$`, everyUdpEchoClientGetsOwnMessagesBack)
	sc.Step(`^the server saw datagrams from (\d+) different ports$`, serverSawDatagramsFromNDifferentPorts)
}

// skipScenario skips the rest of the scenario and says why: in the test
// log, in the run's Results (so that every summary counts a skip, not a
// pass), to godog (the error it returns, godog.ErrSkip, which callers
// pass on, marks the step and the rest as skipped) and to go test, whose
// subtest for the scenario ends as skipped once godog is done with it. A
// scenario that cannot run here must never look as if it passed.
func skipScenario(ctx context.Context, format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	if r := resultsFrom(ctx); r != nil {
		r.skip(scenarioIDFrom(ctx), reason)
	}
	if t := scenarioT(ctx); t != nil {
		// Skip ends the goroutine it is called on, which here runs
		// godog's steps and hooks; from a cleanup, it ends nothing godog
		// still needs.
		t.Cleanup(func() { t.Skip("SKIPPED: " + reason) })
	}
	return fmt.Errorf("%w: %s", godog.ErrSkip, reason)
}
