// bench/echo/echo_go.go - the Go echo server (standard library only).
//
//	echo_go [--port P] [--deadline] [--deadline-s D] [--buf N] [--park N] [--timeout S]
//
// One goroutine per connection, as in Go's net.BenchmarkTCP4Persistent server:
// Read into a 4 KiB buffer, Write the bytes read straight back. --port 0 (the
// default) picks a free port; prints "listening PORT". Listens on 127.0.0.1.
// --deadline calls SetReadDeadline(time.Now().Add(10 * time.Second)) before
// every Read; --deadline-s D the same with D seconds (implies --deadline).
// --buf N (default 4096): the read buffer's size (made per goroutine; it
// escapes to the heap either way, as the [4096]byte array did). GOMAXPROCS
// comes from the environment (the runtime reads it). --park N: on SIGUSR1,
// starts N goroutines each in time.Sleep(600 s) and prints "parked N"
// (echo_np --park N).
// --timeout S (default 900): the server exits by itself after S seconds.
//
// Build (offline, no module): GO111MODULE=off go build -o echo_go echo_go.go
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func serve(c net.Conn, deadline time.Duration, size int) {
	defer c.Close()
	buf := make([]byte, size)
	for {
		if deadline > 0 {
			if err := c.SetReadDeadline(time.Now().Add(deadline)); err != nil {
				return
			}
		}
		n, err := c.Read(buf)
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
	deadlineS := flag.Int("deadline-s", 0, "the same with this many seconds")
	size := flag.Int("buf", 4096, "read buffer bytes")
	park := flag.Int("park", 0, "on SIGUSR1, park this many goroutines in time.Sleep")
	timeout := flag.Int("timeout", 900, "exit after this many seconds")
	flag.Parse()
	if *park > 0 {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGUSR1)
		go func() {
			<-sig
			for i := 0; i < *park; i++ {
				go time.Sleep(600 * time.Second)
			}
			fmt.Printf("parked %d\n", *park)
		}()
	}
	var dl time.Duration
	if *deadline {
		dl = 10 * time.Second
	}
	if *deadlineS > 0 {
		dl = time.Duration(*deadlineS) * time.Second
	}
	if *size < 1 || *size > 1<<20 {
		fmt.Fprintln(os.Stderr, "echo_go: --buf wants 1..1048576")
		os.Exit(2)
	}

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
		go serve(c, dl, *size)
	}
}
