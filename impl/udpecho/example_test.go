package udpecho_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/echospec/echo/impl/udpecho"
)

// A UDP echo server and the client that sends again when an echo is late.
func Example() {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &udpecho.Server{} // the reflection guard is on; DisableGuard turns it off
	go srv.Serve(pc)
	defer srv.Close()

	c, err := (&udpecho.Dialer{Timeout: time.Second, Retries: 3}).Dial(context.Background(), pc.LocalAddr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	echo, err := c.Echo([]byte("hi"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", echo)
	// Output: "hi"
}

// Where nothing answers, Echo gives up after its retries, each attempt
// waiting its whole timeout, and says what the host said.
func ExampleClient_Echo() {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // nothing listens there now

	c, err := (&udpecho.Dialer{Timeout: 50 * time.Millisecond, Retries: 1}).Dial(context.Background(), addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_, err = c.Echo([]byte("hi"))
	fmt.Println(errors.Is(err, udpecho.ErrNoEcho))
	// Output: true
}
