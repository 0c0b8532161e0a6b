// Package steps binds the Gherkin features in ../features to the real
// echo servers and clients in impl/. Every scenario gets its own servers on
// free loopback ports and its own state in the scenario's context, so
// scenarios run concurrently; steps wait for what they expect with a
// deadline, never for a fixed time.
//
// Run them with go test (see features_test.go for the godog flags).
package steps
