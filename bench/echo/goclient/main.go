// bench/echo/goclient - an independent echo client on Go's net package (the
// second load generator beside bench/echo/loadgen.c, issue 18).
//
//	goclient --addr 127.0.0.1:PORT [--conns N] [--seconds S] [--size 512]
//	         [--warmup-ms 200] [--procs P]
//
// One goroutine per connection, one message in flight per connection: write
// `size` bytes, read the `size`-byte echo in full (io.ReadFull), check it,
// repeat. Connections are dialed up front; every goroutine starts its first
// request together. Latency is per request (time.Now, monotonic), from the
// write to the last byte of the echo. Requests that start before the warm-up
// ends or finish after the window are not counted (but are in total=).
// --procs sets GOMAXPROCS (0: leave the default, the number of CPUs).
//
// Bounded: no request starts after warm-up + S s; every connection has a
// deadline 1 s past the window (a straggler gives up); a timer exits the
// process S + 30 s after start whatever happens. Only numeric IPv4 loopback
// addresses (127.x.y.z) are accepted.
//
// Prints one line, loadgen's format plus client=go:
//
//	requests=R rps=X p50_us=P p99_us=Q errors=E total=C mode=persistent conns=N threads=P seconds=S client=go
//
// Build (offline, standard library only):
//
//	cd bench/echo/goclient && GO111MODULE=off go build -o goclient main.go
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"
)

type result struct {
	lat    []uint32 // ns, capped at 4.29 s (saturated)
	total  uint64
	errors uint64
}

func main() {
	addr := flag.String("addr", "", "server address, 127.x.y.z:PORT")
	conns := flag.Int("conns", 2, "connections (one goroutine each)")
	seconds := flag.Float64("seconds", 2, "measured seconds")
	size := flag.Int("size", 512, "message size in bytes")
	warmupMs := flag.Int("warmup-ms", 200, "warm-up before the measured window, ms")
	procs := flag.Int("procs", 0, "GOMAXPROCS (0 = default)")
	flag.Parse()

	if *conns < 1 || *conns > 4096 || *seconds <= 0 || *seconds > 600 || *size < 1 ||
		*size > 1<<20 || *warmupMs < 0 || *warmupMs > 10000 || *procs < 0 || *procs > 64 {
		fmt.Fprintln(os.Stderr, "goclient: argument out of range")
		os.Exit(2)
	}
	ta, err := net.ResolveTCPAddr("tcp4", *addr)
	if err != nil || ta.IP.To4() == nil || ta.IP.To4()[0] != 127 ||
		net.ParseIP(hostOf(*addr)) == nil {
		fmt.Fprintln(os.Stderr, "goclient: --addr must be a numeric loopback IPv4 address")
		os.Exit(2)
	}
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	hard := time.Duration(*seconds*float64(time.Second)) + time.Duration(*warmupMs)*time.Millisecond + 30*time.Second
	time.AfterFunc(hard, func() {
		fmt.Fprintln(os.Stderr, "goclient: hard time limit reached")
		os.Exit(3)
	})

	msg := make([]byte, *size)
	for i := range msg {
		msg[i] = byte('a' + i%26)
	}
	cs := make([]*net.TCPConn, *conns)
	for i := range cs {
		c, err := net.DialTimeout("tcp4", ta.String(), 5*time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, "goclient: dial:", err)
			os.Exit(1)
		}
		cs[i] = c.(*net.TCPConn) // Go sets TCP_NODELAY on every TCP connection
	}

	t0 := time.Now()
	tMeasure := t0.Add(time.Duration(*warmupMs) * time.Millisecond)
	tEnd := tMeasure.Add(time.Duration(*seconds * float64(time.Second)))
	// room for 200k req/s per connection over the window; beyond that the
	// request still counts, its latency is not kept (bounded memory)
	maxKeep := int(*seconds*200000) + 1
	res := make([]result, *conns)
	var wg sync.WaitGroup
	for i := range cs {
		wg.Add(1)
		go func(c *net.TCPConn, r *result) {
			defer wg.Done()
			defer c.Close()
			c.SetDeadline(tEnd.Add(time.Second))
			buf := make([]byte, *size)
			r.lat = make([]uint32, 0, 1024)
			for {
				start := time.Now()
				if !start.Before(tEnd) {
					return
				}
				if _, err := c.Write(msg); err != nil {
					r.errors++
					return
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					r.errors++
					return
				}
				now := time.Now()
				if !bytes.Equal(buf, msg) {
					r.errors++
					return
				}
				r.total++
				if !start.Before(tMeasure) && !now.After(tEnd) && len(r.lat) < maxKeep {
					d := now.Sub(start)
					if d > 0xffffffff {
						d = 0xffffffff
					}
					r.lat = append(r.lat, uint32(d))
				}
			}
		}(cs[i], &res[i])
	}
	wg.Wait()

	var all []uint32
	var total, errors uint64
	for i := range res {
		all = append(all, res[i].lat...)
		total += res[i].total
		errors += res[i].errors
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	q := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		k := int(p * float64(len(all)))
		if k >= len(all) {
			k = len(all) - 1
		}
		return float64(all[k]) / 1000
	}
	fmt.Printf("requests=%d rps=%.0f p50_us=%.2f p99_us=%.2f errors=%d total=%d mode=persistent conns=%d threads=%d seconds=%g client=go\n",
		len(all), float64(len(all)) / *seconds, q(0.50), q(0.99), errors, total, *conns,
		runtime.GOMAXPROCS(0), *seconds)
	if len(all) == 0 {
		os.Exit(1)
	}
}

func hostOf(hp string) string {
	h, _, err := net.SplitHostPort(hp)
	if err != nil {
		return ""
	}
	return h
}
