// Package tcpecho provides a TCP echo server and client with two framings:
// a fixed buffer of N bytes and newline-terminated lines.
//
// Both framings echo every byte a client sends back to it, once and in order,
// as RFC 862 asks. The framing only decides what the server counts as one
// message: what its Observer is told about and how much it holds at a time.
//
//   - FramingFixed takes at most Size bytes (4 by default) as one message.
//   - FramingLine takes one line ending in '\n' as one message. A line longer
//     than MaxLine (64 KiB by default) is passed on in pieces of MaxLine
//     bytes, so the server never holds more than that for it.
//
// The Server follows net/http.Server: configure it with fields, start it with
// Serve or ListenAndServe, stop it with Shutdown or Close. The Client sends
// messages in the same framing and checks that each echo matches.
package tcpecho
