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
// Three paths read and write a connection, chosen at build time and by
// the connection:
//
//   - On Linux, a plain TCP connection (a PROXY header allowed, not TLS)
//     parks whenever it has nothing to read and nothing to write: it is
//     registered with one of the server's event loops (an epoll instance
//     per CPU but one, through golang.org/x/sys/unix) and holds no goroutine and
//     no buffer, only its small state and the kernel's socket: about
//     0.6 KiB of memory in all at 10,000 idle connections (make bench
//     measures it), as much as gnet's event loop. A new connection
//     parks as soon as it is accepted. When its client sends, the loop
//     reads into a buffer of its own, echoes every whole message at once
//     and, if nothing is left, the connection stays parked: a ping-pong
//     client costs a read and a write per message, and no goroutine
//     switch. Anything that has to wait (an unfinished line, an echo the
//     client is slow to take), a stream (a read of more than 16 KiB, so
//     that the write timeout watches the client from its first echo) or
//     what ends the connection (the end of its stream, a reset, the idle
//     timeout, a shutdown) is handed to a goroutine of the connection's
//     own, which runs until it parks again.
//     The idle timeout of parked connections is kept by their loop, to
//     within a sixty-fourth of it; Shutdown and Close first take every
//     connection out of the loops. An Observer may then be called from a
//     loop, so a slow one holds up the connections of that loop (but
//     not Accept, nor the other loops).
//   - On other Unix systems, such a connection waits for its client on
//     its own goroutine, without a buffer: it peeks at the socket and
//     takes a pooled buffer only once bytes have arrived.
//   - Over TLS, and where the system has no such calls, a connection
//     reads through net.Conn on its own goroutine: a shutdown echoes what
//     the server has read rather than what the kernel still holds. A TLS
//     connection waits on a small buffer of its own (512 bytes, beside
//     what crypto/tls keeps) and takes a pooled one once bytes have come;
//     elsewhere a connection keeps its pooled buffer while it waits.
//
// # Design
//
// Each connection has one core (core.go): its buffer and what in it is
// not yet taken, the framing, what it holds against MaxHeld, the
// bookkeeping of its idle and write deadlines, and its events. The core
// makes no system call and starts no goroutine; it is tested, and
// fuzzed, without a socket. It is in one state at a time, and moves only
// along these edges (core.to checks each move):
//
//	accepted  → preamble, parked, active, closed
//	preamble  → active, closed (PROXY header, TLS handshake)
//	parked    → active, closed (in an event loop: no goroutine, no buffer)
//	waiting   → active (on its goroutine, waiting for its client, holding nothing)
//	active    → waiting, parked, draining, closed
//	draining  → closed (Shutdown: echo what has arrived, then go)
//
// Two drivers move a core's bytes and do nothing else: the goroutine
// driver (drive.go), over any net.Conn, TLS included, on every system;
// and on Linux the event loop (loop_linux.go), for plain TCP, which
// echoes a parked connection's whole messages in place. Who owns what: a
// parked connection belongs to its loop, whose goroutine alone touches
// its table of connections; a connection on a goroutine belongs to that
// goroutine. A goroutine hands a connection to a loop through the loop's
// queue and wake-up descriptor, and a loop hands one back by starting
// its goroutine, with what it could not finish (the rest of an echo, an
// unfinished message, its read's error). The Server owns the listeners,
// the count of connections, under its own lock, which no
// driver holds while it reads, writes or tells an observer, and the
// budget, an atomic count.
//
// On Unix the write timeout counts from when the client last took bytes
// (TCP_INFO on Linux); elsewhere from the end of each write that took
// bytes.
package tcpecho
