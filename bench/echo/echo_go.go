// bench/echo/echo_go.go - the Go echo server (standard library only).
//
//	echo_go [--port P] [--deadline] [--timeout S]
//
// One goroutine per connection, as in Go's net.BenchmarkTCP4Persistent server:
// Read into a 4 KiB buffer, Write the bytes read straight back. --port 0 (the
// default) picks a free port; prints "listening PORT". Listens on 127.0.0.1.
// --deadline calls SetReadDeadline(time.Now().Add(10 * time.Second)) before
// every Read. GOMAXPROCS comes from the environment (the runtime reads it).
// --timeout S (default 900): the server exits by itself after S seconds.
//
// Build (offline, no module): GO111MODULE=off go build -o echo_go echo_go.go
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

func serve(c net.Conn, deadline bool) {
	defer c.Close()
	var buf [4096]byte
	for {
		if deadline {
			if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
				return
			}
		}
		n, err := c.Read(buf[:])
		if err != nil {
			return
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}

func main() {
	port := flag.Int("port", 0, "TCP port on 127.0.0.1 (0 = pick one)")
	deadline := flag.Bool("deadline", false, "reset a 10 s read deadline before every read")
	timeout := flag.Int("timeout", 900, "exit after this many seconds")
	flag.Parse()

	ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo_go: listen:", err)
		os.Exit(1)
	}
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
	if *timeout > 0 {
		time.AfterFunc(time.Duration(*timeout)*time.Second, func() { os.Exit(0) })
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			time.Sleep(time.Millisecond) // e.g. out of descriptors: back off
			continue
		}
		go serve(c, *deadline)
	}
}
