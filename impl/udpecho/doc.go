// Package udpecho provides a UDP echo server and client.
//
// The server sends each datagram's exact payload back to its sender, as
// RFC 862 asks: nothing added, nothing cut, an empty datagram answered with
// an empty one. Unlike the echo services of xinetd, it guards against
// reflection loops by default: it does not answer datagrams from the ports
// of other services (below 1024, and NFS's 2049), from its own port number
// on any host, nor from broadcast, multicast or unspecified sources, because
// two services that answer each other never stop, and one forged datagram
// starts them (CVE-1999-0103); and it ends a loop with an echo service on
// another port, which it finds by a probe that only an echo service
// answers.
//
// On a socket bound to all addresses (0.0.0.0, [::]) each answer leaves
// from the address its datagram was sent to, as a client's connected socket
// requires.
//
// The client sends a message as one datagram and waits for the datagram
// that matches it, resending after a timeout a bounded number of times.
package udpecho
