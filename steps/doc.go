// Package steps binds the Gherkin features in ../features to the real
// echo servers and clients in impl/. Every scenario gets its own servers on
// free loopback ports and its own state in the scenario's context, so
// scenarios run concurrently; steps wait for what they expect with a
// deadline, never for a fixed time.
//
// Where things are:
//
//   - InitializeScenario (steps.go) is the one index of the steps, grouped
//     by subject; each step is a named function in the file its group
//     names.
//   - A server under test is a service (service.go): in-process, one of
//     the binaries, or somebody else's; startTCP and startUDP pick by the
//     run's mode, and no step asks which. The project's clients are
//     tcpEchoer and udpEchoer (echo_clients.go), alike in every mode.
//   - Helpers have files of their own (peer.go, stream.go, flood.go,
//     process.go, thirdparty.go, …); what a run counts and reports is in
//     results.go and report.go.
//
// Run them with go test (see features_test.go for the godog flags).
package steps
