package tcpecho

import (
	"fmt"
	"io"
	"net"
	"net/netip"

	"github.com/echospec/echo/internal/eventline"
)

// eventLine is an Event as one JSON line of an event stream.
type eventLine struct {
	Kind     string   `json:"kind"`
	Conn     uint64   `json:"conn"`
	Remote   string   `json:"remote"`
	Local    string   `json:"local,omitempty"`    // for "conn opened": where the client connected
	Identity string   `json:"identity,omitempty"` // for "conn opened": the server's name for identity probes
	Proxy    string   `json:"proxy,omitempty"`    // the balancer's address, behind a PROXY header
	TLS      *TLSInfo `json:"tls,omitempty"`
	Bytes    int      `json:"bytes,omitempty"`
	Messages int      `json:"messages,omitempty"`
	Message  []byte   `json:"message,omitempty"` // base64, as encoding/json writes bytes
	Reason   string   `json:"reason,omitempty"`
	// Why is the Reason's class, for programs: "client closed", "server
	// closed", "idle timeout", "write timeout", "too many", "too many from
	// source", "reset", "tls handshake", "proxy header" or "error".
	Why string `json:"why,omitempty"`
}

// EventStream returns an Observer that writes every event to w as a line
// of JSON, for programs watching a server from outside its process:
//
//	{"kind":"conn opened","conn":1,"remote":"127.0.0.1:40312","local":"127.0.0.1:7007"}
//	{"kind":"message received","conn":1,"remote":"127.0.0.1:40312","message":"aGVsbG8K"}
//	{"kind":"data written","conn":1,"remote":"127.0.0.1:40312","bytes":6,"messages":1}
//	{"kind":"conn closed","conn":1,"remote":"127.0.0.1:40312","reason":"client closed the connection","why":"client closed"}
//
// Behind a load balancer that sends a PROXY header, "remote" is the client
// and "proxy" the balancer; over TLS, "tls" tells what was agreed:
//
//	{"kind":"conn opened","conn":2,"remote":"192.0.2.7:51000","local":"127.0.0.1:7007","proxy":"127.0.0.1:40400","tls":{"version":"TLS 1.3","cipher_suite":"TLS_AES_128_GCM_SHA256","server_name":"echo.test"}}
//
// Messages are whole, base64-encoded. Writes are serialised; a slow w slows
// the connections that report to it. ReadEvent reads the lines back.
func EventStream(w io.Writer) Observer {
	enc := eventline.NewEncoder(w)
	return ObserverFunc(func(e Event) {
		line := eventLine{Kind: e.Kind.String(), Conn: e.Conn, Remote: e.Remote.String(), Identity: e.Identity, TLS: e.TLS, Bytes: e.Bytes, Messages: e.Messages, Message: e.Message}
		if e.Local != nil {
			line.Local = e.Local.String()
		}
		if e.Proxy != nil {
			line.Proxy = e.Proxy.String()
		}
		if e.Reason != nil {
			line.Reason, line.Why = e.Reason.Error(), reasons.Name(e.Reason)
		}
		enc.Encode(line)
	})
}

// reasons are the Reasons a program can tell apart, by their names in a
// stream.
var reasons = eventline.Reasons{
	{Name: "client closed", Is: ErrClientClosed},
	{Name: "server closed", Is: ErrServerClosed},
	{Name: "idle timeout", Is: ErrIdleTimeout},
	{Name: "write timeout", Is: ErrWriteTimeout},
	{Name: "too many", Is: ErrTooManyConns},
	{Name: "too many from source", Is: ErrTooManyFromSource},
	{Name: "reset", Is: ErrClientReset},
	{Name: "tls handshake", Is: ErrHandshake},
	{Name: "proxy header", Is: ErrProxyHeader},
}

// Why names the class of a connection's reason, as the event stream's
// "why" field does: "client closed", ..., or "error" for a reason of no class. The
// names are few and fixed, fit for a metric's label.
func Why(reason error) string { return reasons.Name(reason) }

// Whys lists every name Why returns, "error" last.
func Whys() []string { return reasons.Names() }

// ErrEventsDropped is what ReadEvent returns for the line a server writes
// where it dropped events because the stream's reader did not keep up: a
// reader that needs every event must take it as a failure.
var ErrEventsDropped = eventline.ErrDropped

// ErrStreamNotice is what ReadEvent returns for a line that tells the
// reader something about the server rather than an event, such as that
// its stderr failed.
var ErrStreamNotice = eventline.ErrNotice

// ReadEvent parses one line of an EventStream. The Reason it returns is
// the server's text wrapping the same sentinel the server's did
// (ErrClientClosed, ErrServerClosed, ...), so errors.Is works across the
// process boundary. A line that is not an event of this stream is an
// error.
func ReadEvent(line []byte) (Event, error) {
	var l eventLine
	kind, err := eventline.Decode(line, &l, ConnOpened, DataWritten)
	if err != nil {
		return Event{}, err
	}
	remote, err := netip.ParseAddrPort(l.Remote)
	if err != nil {
		return Event{}, fmt.Errorf("event %q: remote: %w", line, err)
	}
	e := Event{Kind: kind, Conn: l.Conn, Remote: net.TCPAddrFromAddrPort(remote), Identity: l.Identity, TLS: l.TLS, Bytes: l.Bytes, Messages: l.Messages, Message: l.Message, Reason: reasons.Read(l.Reason, l.Why)}
	if l.Local != "" {
		local, err := netip.ParseAddrPort(l.Local)
		if err != nil {
			return Event{}, fmt.Errorf("event %q: local: %w", line, err)
		}
		e.Local = net.TCPAddrFromAddrPort(local)
	}
	if l.Proxy != "" {
		proxy, err := netip.ParseAddrPort(l.Proxy)
		if err != nil {
			return Event{}, fmt.Errorf("event %q: proxy: %w", line, err)
		}
		e.Proxy = net.TCPAddrFromAddrPort(proxy)
	}
	return e, nil
}
