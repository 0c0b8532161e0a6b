// Package tcpecho provides a TCP echo server and client with three
// framings: a stream echoed as it arrives, newline-terminated lines, and a
// fixed buffer of N bytes.
//
// Every framing echoes every byte a client sends back to it, once and in
// order. The framing decides when, what the server counts as one message
// (what its Observer is told about) and how much it holds at a time:
//
//   - FramingStream, the zero value, echoes each read at once, whatever it
//     holds; a message is what one read returned. This is RFC 862's echo,
//     and what xinetd's and socat's echo servers do. Choose it to test
//     networks, load balancers and clients: any client gets its bytes back
//     without ending a line or its stream.
//   - FramingLine takes one line ending in '\n' as one message and echoes
//     it once it is whole. A line longer than MaxLine (64 KiB by default)
//     is passed on in pieces of MaxLine bytes, so the server never holds
//     more than that for it. Choose it to watch a line protocol and see
//     where messages begin and end; a client that sends no line end waits.
//   - FramingFixed takes at most Size bytes (4 by default) of what has
//     arrived as one message, as the article's server does. Choose it to
//     watch TCP deliver bytes in pieces.
//
// The Server follows net/http.Server: configure it with fields, start it with
// Serve or ListenAndServe, stop it with Shutdown or Close. The Client sends
// messages in the same framing and checks that each echo matches.
//
// A connection may start with a preamble: a PROXY protocol header, which a
// load balancer sends to name the client it relays (Server.ProxyProtocol),
// and a TLS handshake (Server.TLSConfig). The preamble runs on the
// connection's own goroutine, bounded by HandshakeTimeout, so a client
// that stalls in it holds up nobody else; one that fails it is refused
// with ErrProxyHeader or ErrHandshake. After it the echo is the same.
//
// Two paths read and write a connection. On Unix, a plain TCP connection
// waits for its client without a buffer (it peeks at the socket and takes
// a pooled buffer only once bytes have arrived), and its write timeout
// counts from when the client last took bytes (TCP_INFO on Linux). Over
// TLS, and where the system has no such calls, a connection reads through
// net.Conn: a shutdown echoes what the server has read rather than what
// the kernel still holds, and the write timeout counts from the end of
// each write that took bytes. A TLS connection waits on a small buffer of
// its own (512 bytes, beside what crypto/tls keeps) and takes a pooled one
// once bytes have come; elsewhere a connection keeps its pooled buffer
// while it waits.
package tcpecho
