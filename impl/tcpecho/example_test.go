package tcpecho_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/echospec/echo/impl/tcpecho"
)

// An echo server and the client that checks every echo. Listening before
// serving means the address takes connections at once: no race with Serve.
func Example() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &tcpecho.Server{} // the zero value echoes each read at once (RFC 862)
	go srv.Serve(l)          // returns tcpecho.ErrServerClosed once stopped
	defer srv.Close()

	c, err := tcpecho.Dial(context.Background(), l.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	echo, err := c.Echo([]byte("hello")) // sends "hello" as it is, checks what comes back
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", echo)
	if err := c.Close(); err != nil { // half-closes, and reports anything extra
		log.Fatal(err)
	}
	// Output: "hello"
}

// ListenAndServe on a free port, with Ready telling which port and when
// the server takes connections.
func ExampleServer_Ready() {
	ready := make(chan net.Addr, 1)
	srv := &tcpecho.Server{
		Addr:    "127.0.0.1:0",
		Framing: tcpecho.FramingFixed,
		Size:    4,
		Ready:   func(addr net.Addr) { ready <- addr },
	}
	go srv.ListenAndServe()
	defer srv.Close()
	addr := (<-ready).String()

	c, err := (&tcpecho.Dialer{Framing: tcpecho.FramingFixed, Size: 4}).Dial(context.Background(), addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	echo, err := c.Echo([]byte("abcdefghij")) // sent 4 bytes at a time
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(echo))
	// Output: abcdefghij
}

// An Observer sees every message the server takes, before its echo goes
// back: here, every line.
func ExampleObserverFunc() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &tcpecho.Server{Framing: tcpecho.FramingLine, Observer: tcpecho.ObserverFunc(func(e tcpecho.Event) {
		if e.Kind == tcpecho.MessageReceived {
			fmt.Printf("server took %q\n", e.Message)
		}
	})}
	go srv.Serve(l)
	defer srv.Close()

	c, err := (&tcpecho.Dialer{Framing: tcpecho.FramingLine}).Dial(context.Background(), l.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for _, msg := range []string{"one", "two"} { // each sent with a '\n'
		if _, err := c.Echo([]byte(msg)); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// server took "one\n"
	// server took "two\n"
}

// Shutdown is graceful: what a client sent comes back before its
// connection closes, even half a line that a line server holds.
func ExampleServer_Shutdown() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	read := make(chan struct{}, 1)
	srv := &tcpecho.Server{Framing: tcpecho.FramingLine, Observer: tcpecho.ObserverFunc(func(e tcpecho.Event) {
		if e.Kind == tcpecho.DataRead {
			read <- struct{}{}
		}
	})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("half a line"))
	<-read // the server has it

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := conn.Read(buf)
	fmt.Printf("%q, then Serve returned: %v\n", buf[:n], <-served)
	// Output: "half a line", then Serve returned: tcpecho: server closed
}
