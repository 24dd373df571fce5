// parity.go - the Go 1.19 half of the go_parity test (tests/parity/).
//
// Runs a fixed list of net-level scenarios on loopback TCP and prints one
// line per scenario. parity.c runs the same scenarios on netpoll's net.h and
// must print the same lines; run_parity.sh diffs the two outputs.
//
// Every line is made only of facts that do not change from run to run:
//   - result kinds, normalized: ok, eof, timeout, closed, error (and none
//     for a call that had not returned when we stopped waiting);
//   - byte counts, except after filling a socket buffer, where only
//     "partial=yes" (0 < n < len) is printed;
//   - a coarse time bucket (see when()).
//
// Standard library only. Every loop is bounded in count and time, and every
// call that could hang runs in its own goroutine, waited for with a bound.
package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	immediate = 25 * time.Millisecond   // "immediately": returned within this
	slack     = 1000 * time.Millisecond // "at_deadline": within this after it
	blockWait = 150 * time.Millisecond  // a call still pending after this is "blocked"
	bound     = 5 * time.Second         // a call pending after this is "hung"
	settle    = 50 * time.Millisecond   // lets loopback data arrive
	bigWrite  = 64 << 20                // more than any loopback socket buffers hold
)

// kind normalizes a result: ok, eof, timeout, closed or error.
func kind(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, io.EOF):
		return "eof"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, net.ErrClosed):
		return "closed"
	default:
		return "error"
	}
}

// when buckets a call that started at start and returned at end, under the
// deadline dl (zero: none, or measured from an event rather than a deadline):
//
//	immediately      returned within 25 ms of start, before dl (or dl was past)
//	before_deadline  returned later than that but before dl
//	at_deadline      returned at or after dl, within 1 s of it
//	late             anything later
func when(start, end, dl time.Time) string {
	el := end.Sub(start)
	if dl.IsZero() || !dl.After(start) {
		if el < immediate {
			return "immediately"
		}
		return "late"
	}
	if end.Before(dl) {
		if el < immediate {
			return "immediately"
		}
		return "before_deadline"
	}
	if end.Sub(dl) < slack {
		return "at_deadline"
	}
	return "late"
}

// past is a deadline that has already passed.
func past() time.Time { return time.Now().Add(-time.Second) }

// maxDeadline is the largest deadline: it saturates to "never".
func maxDeadline() time.Time { return time.Now().Add(math.MaxInt64) }

// An op is one call running in its own goroutine.
type op struct {
	start time.Time
	done  chan struct{}
	n     int
	err   error
	end   time.Time
	ok    bool // returned (set by wait)
}

func goOp(f func() (int, error)) *op {
	o := &op{start: time.Now(), done: make(chan struct{})}
	go func() {
		o.n, o.err = f()
		o.end = time.Now()
		close(o.done)
	}()
	return o
}

// wait waits up to d for o; reports whether it returned.
func (o *op) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-o.done:
		o.ok = true
	case <-t.C:
	}
	return o.ok
}

// run starts f and waits for it with the hang bound.
func run(f func() (int, error)) *op {
	o := goOp(f)
	o.wait(bound)
	return o
}

// fmtOp prints "name=kind bytes=n when=bucket", the bucket taken from start
// (the call's own start unless given) against dl.
func (o *op) fmtFrom(name string, start, dl time.Time) string {
	if !o.ok {
		return name + "=none bytes=0 when=never"
	}
	return fmt.Sprintf("%s=%s bytes=%d when=%s", name, kind(o.err), o.n, when(start, o.end, dl))
}

func (o *op) fmt(name string, dl time.Time) string { return o.fmtFrom(name, o.start, dl) }

// fmtKind prints only "name=kind" (or none).
func (o *op) fmtKind(name string) string {
	if !o.ok {
		return name + "=none"
	}
	return name + "=" + kind(o.err)
}

// blocked waits blockWait for o: "blocked=yes" if it is still pending.
func (o *op) blocked() string {
	if o.wait(blockWait) {
		return "blocked=no(" + o.fmt("got", time.Time{}) + ")"
	}
	return "blocked=yes"
}

func yesno(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// A pair is a loopback TCP connection: c (dialed) and s (accepted).
type pair struct {
	l    net.Listener
	c, s net.Conn
}

func newPair() (*pair, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		l.Close()
		return nil, err
	}
	s, err := l.Accept()
	if err != nil {
		c.Close()
		l.Close()
		return nil, err
	}
	return &pair{l, c, s}, nil
}

func (p *pair) close() {
	p.c.Close()
	p.s.Close()
	p.l.Close()
}

func read(c net.Conn, buf []byte) func() (int, error) {
	return func() (int, error) { return c.Read(buf) }
}

func write(c net.Conn, buf []byte) func() (int, error) {
	return func() (int, error) { return c.Write(buf) }
}

func line(name string, parts ...string) {
	fmt.Printf("%s: %s\n", name, strings.Join(parts, "; "))
}

var hello = []byte("hello")

// A past read deadline times out even with data buffered, and stays expired;
// clearing it delivers the data.
func pastDeadlineWithData(name string) {
	p, err := newPair()
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer p.close()
	buf := make([]byte, 64)
	p.s.Write(hello)
	time.Sleep(settle)
	p.c.SetReadDeadline(past())
	r1 := run(read(p.c, buf))
	r2 := run(read(p.c, buf))
	p.c.SetReadDeadline(time.Time{})
	r3 := run(read(p.c, buf))
	line(name, r1.fmt("read", time.Time{}), r2.fmt("again", time.Time{}), r3.fmt("cleared", time.Time{}))
}

// A deadline 50 ms ahead delivers buffered data at once, then times out at
// the deadline, then stays expired.
func deadline50ms(name string) {
	p, err := newPair()
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer p.close()
	buf := make([]byte, 64)
	p.s.Write(hello)
	time.Sleep(settle)
	dl := time.Now().Add(50 * time.Millisecond)
	p.c.SetReadDeadline(dl)
	r1 := run(read(p.c, buf))
	r2 := run(read(p.c, buf))
	r3 := run(read(p.c, buf))
	line(name, r1.fmt("read", dl), r2.fmt("again", dl), r3.fmt("later", time.Time{}))
}

// Clearing a past deadline makes reads block again; closing the connection
// then ends the blocked read with "closed", not a timeout.
func clearPastDeadline(name string) {
	p, err := newPair()
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer p.l.Close()
	defer p.s.Close()
	buf := make([]byte, 64)
	p.c.SetReadDeadline(past())
	r1 := run(read(p.c, buf))
	p.c.SetReadDeadline(time.Time{})
	r2 := goOp(read(p.c, buf))
	b := r2.blocked()
	t := time.Now()
	cerr := p.c.Close()
	r2.wait(bound)
	line(name, r1.fmt("read", time.Time{}), "cleared_"+b, "close_ret="+kind(cerr),
		r2.fmtFrom("after_close", t, time.Time{}))
}

// Read and write deadlines are independent.
func rwIndependent(name string) {
	p, err := newPair()
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer p.close()
	buf := make([]byte, 64)
	pbuf := make([]byte, 64)
	p.c.SetReadDeadline(past())
	w1 := run(write(p.c, hello))
	r1 := run(read(p.c, buf))
	p.c.SetReadDeadline(time.Time{})
	p.c.SetWriteDeadline(past())
	p.s.Write([]byte("world"))
	time.Sleep(settle)
	r2 := run(read(p.c, buf))
	w2 := run(write(p.c, hello))
	// The peer got the first write only: 5 bytes, then nothing.
	pr1 := run(read(p.s, pbuf))
	pdl := time.Now().Add(100 * time.Millisecond)
	p.s.SetReadDeadline(pdl)
	pr2 := run(read(p.s, pbuf))
	line(name,
		"past_read:"+w1.fmt("write", time.Time{})+" "+r1.fmt("read", time.Time{}),
		"past_write:"+r2.fmt("read", time.Time{})+" "+w2.fmt("write", time.Time{}),
		pr1.fmt("peer", time.Time{}), pr2.fmt("peer_again", pdl))
}

// Setting a past read deadline unblocks a blocked read at once; setting one
// 50 ms ahead unblocks it at that deadline.
func unblockBlockedRead(name string) {
	p, err := newPair()
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer p.close()
	buf := make([]byte, 64)
	r1 := goOp(read(p.c, buf))
	b1 := r1.blocked()
	t := time.Now()
	p.c.SetReadDeadline(past())
	r1.wait(bound)
	p.c.SetReadDeadline(time.Time{})
	r2 := goOp(read(p.c, buf))
	b2 := r2.blocked()
	t2 := time.Now()
	dl := t2.Add(50 * time.Millisecond)
	p.c.SetReadDeadline(dl)
	r2.wait(bound)
	line(name, b1, r1.fmtFrom("set_past", t, time.Time{}), b2, r2.fmtFrom("set_50ms", t2, dl))
}

// Peer close gives EOF (after the data), and keeps giving it; a read blocked
// when the peer closes gets EOF at once.
func peerCloseEOF(name string) {
	p, err := newPair()
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer p.close()
	buf := make([]byte, 64)
	p.s.Write([]byte("bye"))
	p.s.Close()
	r1 := run(read(p.c, buf))
	r2 := run(read(p.c, buf))
	r3 := run(read(p.c, buf))

	q, err := newPair()
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer q.close()
	r4 := goOp(read(q.c, buf))
	b := r4.blocked()
	t := time.Now()
	q.s.Close()
	r4.wait(bound)
	line(name, r1.fmt("read", time.Time{}), r2.fmt("again", time.Time{}), r3.fmt("third", time.Time{}),
		"peer_close_while_"+b, r4.fmtFrom("then", t, time.Time{}))
}

// A zero-byte read returns at once with 0 bytes: with no data, under a past
// deadline, and after the peer closed.
func zeroByteRead(name string) {
	p, err := newPair()
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer p.close()
	buf := make([]byte, 64)
	r1 := run(read(p.c, buf[:0]))
	p.c.SetReadDeadline(past())
	r2 := run(read(p.c, buf[:0]))
	p.c.SetReadDeadline(time.Time{})
	p.s.Close()
	time.Sleep(settle)
	r3 := run(read(p.c, buf[:0]))
	line(name, r1.fmt("read", time.Time{}), r2.fmt("past_deadline", time.Time{}), r3.fmt("peer_closed", time.Time{}))
}

// A zero-byte write: at once with no deadline; a past write deadline still
// applies to it.
func zeroByteWrite(name string) {
	p, err := newPair()
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer p.close()
	w1 := run(write(p.c, hello[:0]))
	p.c.SetWriteDeadline(past())
	w2 := run(write(p.c, hello[:0]))
	line(name, w1.fmt("write", time.Time{}), w2.fmt("past_deadline", time.Time{}))
}

// Read deadlines from 1 ns to 1 s (1-2-5 steps) on an idle connection: every
// one times out, none before its deadline, none hangs.
func deadlineSweep(name string) {
	p, err := newPair()
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer p.close()
	buf := make([]byte, 64)
	count, timeouts, early, hung := 0, 0, 0, 0
	for d := time.Duration(1); d <= time.Second; d *= 10 {
		for _, m := range []time.Duration{1, 2, 5} {
			if d*m > time.Second {
				continue
			}
			count++
			dl := time.Now().Add(d * m)
			p.c.SetReadDeadline(dl)
			o := goOp(read(p.c, buf))
			if !o.wait(d*m + bound) {
				hung++
				p.c.SetReadDeadline(past())
				if !o.wait(bound) {
					break
				}
				continue
			}
			if kind(o.err) == "timeout" {
				timeouts++
			}
			if o.end.Before(dl) {
				early++
			}
		}
	}
	line(name, fmt.Sprintf("count=%d all_timeout=%s none_early=%s none_hung=%s",
		count, yesno(timeouts == count), yesno(early == 0), yesno(hung == 0)))
}

// The largest deadline never fires: a read stays blocked and a write goes
// through; a past deadline then ends the read.
func maxDeadlineNeverFires(name string) {
	p, err := newPair()
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer p.close()
	buf := make([]byte, 64)
	p.c.SetDeadline(maxDeadline())
	r := goOp(read(p.c, buf))
	b := r.blocked()
	w := run(write(p.c, hello))
	t := time.Now()
	p.c.SetReadDeadline(past())
	r.wait(bound)
	line(name, "read_"+b, w.fmt("write", time.Time{}), r.fmtFrom("set_past", t, time.Time{}))
}

// Accept with a past deadline times out even with a connection queued, and
// stays expired; cleared, it accepts at once; a 50 ms deadline with nothing
// queued times out at the deadline.
func acceptPastDeadline(name string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		line(name, "setup=error")
		return
	}
	l := ln.(*net.TCPListener)
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer c.Close()
	time.Sleep(settle)
	accept := func() (int, error) {
		s, err := l.Accept()
		if err == nil {
			s.Close()
		}
		return 0, err
	}
	l.SetDeadline(past())
	a1 := run(accept)
	a2 := run(accept)
	l.SetDeadline(time.Time{})
	a3 := run(accept)
	dl := time.Now().Add(50 * time.Millisecond)
	l.SetDeadline(dl)
	a4 := run(accept)
	line(name, a1.fmt("accept", time.Time{}), a2.fmt("again", time.Time{}), a3.fmt("cleared", time.Time{}),
		a4.fmt("empty_50ms", dl))
}

func partial(o *op, name string, start, dl time.Time) string {
	if !o.ok {
		return name + "=none partial=no when=never"
	}
	return fmt.Sprintf("%s=%s partial=%s when=%s", name, kind(o.err),
		yesno(o.n > 0 && o.n < bigWrite), when(start, o.end, dl))
}

// A write blocks once the socket buffers are full (the peer never reads);
// its 100 ms deadline ends it with a partial count; the next write times out
// at once, writing nothing.
func writeFullBuffer(name string) {
	p, err := newPair()
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer p.close()
	big := make([]byte, bigWrite)
	dl := time.Now().Add(100 * time.Millisecond)
	p.c.SetWriteDeadline(dl)
	w1 := run(write(p.c, big))
	w2 := run(write(p.c, big))
	line(name, partial(w1, "write", w1.start, dl), w2.fmt("again", time.Time{}))
}

// A write blocked on a full buffer is ended at once by a past deadline.
func writeFullUnblock(name string) {
	p, err := newPair()
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer p.close()
	big := make([]byte, bigWrite)
	w := goOp(write(p.c, big))
	b := w.blocked()
	t := time.Now()
	p.c.SetWriteDeadline(past())
	w.wait(bound)
	line(name, b, partial(w, "set_past", t, time.Time{}))
}

// Deadlines reset every few microseconds (for up to 300 ms, 20000 times)
// while one goroutine reads and one writes on the same connection and the
// peer pumps and drains: only ok and timeout results, nothing hangs.
func deadlineChurn(name string) {
	p, err := newPair()
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer p.l.Close()
	var stop int32
	var unexpected, readsOK, writesOK int64
	loop := func(f func() (int, error), okCount *int64, check bool) func() (int, error) {
		return func() (int, error) {
			for i := 0; i < 10000000 && atomic.LoadInt32(&stop) == 0; i++ {
				n, err := f()
				k := kind(err)
				if k == "ok" && n > 0 {
					atomic.AddInt64(okCount, 1)
				} else if check && k != "timeout" {
					atomic.AddInt64(&unexpected, 1)
					return 0, err
				} else if !check && k != "ok" {
					return 0, err
				}
				if k == "timeout" {
					// An expired deadline fails at once: let the
					// others run (parity.c's tasks are not preempted).
					runtime.Gosched()
				}
			}
			return 0, nil
		}
	}
	cbuf := make([]byte, 4096)
	sbuf := make([]byte, 4096)
	chunk := make([]byte, 1024)
	var sink int64
	reader := goOp(loop(read(p.c, cbuf), &readsOK, true))
	writer := goOp(loop(write(p.c, chunk), &writesOK, true))
	pump := goOp(loop(write(p.s, chunk), &sink, false))
	drain := goOp(loop(read(p.s, sbuf), &sink, false))

	start := time.Now()
	for i := 0; i < 20000 && time.Since(start) < 300*time.Millisecond; i++ {
		switch i % 6 {
		case 0:
			p.c.SetReadDeadline(past())
		case 1:
			p.c.SetWriteDeadline(time.Now().Add(20 * time.Microsecond))
		case 2:
			p.c.SetDeadline(time.Time{})
		case 3:
			p.c.SetReadDeadline(time.Now().Add(time.Millisecond))
		case 4:
			p.c.SetWriteDeadline(past())
		case 5:
			p.c.SetDeadline(maxDeadline())
		}
		time.Sleep(5 * time.Microsecond)
	}
	atomic.StoreInt32(&stop, 1)
	p.c.SetDeadline(past())
	hung := 0
	for _, o := range []*op{reader, writer} {
		if !o.wait(bound) {
			hung++
		}
	}
	p.s.Close()
	for _, o := range []*op{pump, drain} {
		if !o.wait(bound) {
			hung++
		}
	}
	p.c.Close()
	if os.Getenv("PARITY_VERBOSE") != "" {
		fmt.Fprintf(os.Stderr, "deadline_churn: reads_ok=%d writes_ok=%d sink=%d\n",
			atomic.LoadInt64(&readsOK), atomic.LoadInt64(&writesOK), atomic.LoadInt64(&sink))
	}
	line(name, fmt.Sprintf("hung=%d unexpected=%d progress=%s", hung, atomic.LoadInt64(&unexpected),
		yesno(atomic.LoadInt64(&readsOK) > 0 && atomic.LoadInt64(&writesOK) > 0)))
}

// Dialing a loopback port nobody listens on is refused.
func dialRefused(name string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		line(name, "setup=error")
		return
	}
	addr := l.Addr().String()
	l.Close()
	var refused bool
	d := run(func() (int, error) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		refused = errors.Is(err, syscall.ECONNREFUSED)
		return 0, err
	})
	line(name, d.fmt("dial", time.Time{})+" refused="+yesno(refused))
}

// CloseWrite: the peer reads the data then EOF; the other direction still
// works; writing after it fails.
func closeWrite(name string) {
	p, err := newPair()
	if err != nil {
		line(name, "setup=error")
		return
	}
	defer p.close()
	buf := make([]byte, 64)
	p.c.Write(hello)
	cw := p.c.(*net.TCPConn).CloseWrite()
	r1 := run(read(p.s, buf))
	r2 := run(read(p.s, buf))
	p.s.Write([]byte("world"))
	r3 := run(read(p.c, buf))
	w := run(write(p.c, hello))
	line(name, "shutdown="+kind(cw), r1.fmt("peer", time.Time{}), r2.fmt("peer_again", time.Time{}),
		r3.fmt("reverse", time.Time{}), w.fmtKind("write_after"))
}

// The same exchange over IPv6 loopback.
func ipv6Loopback(name string) {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		line(name, "listen="+kind(err))
		return
	}
	defer l.Close()
	addr := l.Addr().String()
	c, err := net.Dial("tcp6", addr)
	if err != nil {
		line(name, "listen=ok", "dial="+kind(err))
		return
	}
	defer c.Close()
	s, err := l.Accept()
	if err != nil {
		line(name, "listen=ok", "dial=ok", "accept="+kind(err))
		return
	}
	defer s.Close()
	buf := make([]byte, 64)
	c.Write(hello)
	r := run(read(s, buf))
	line(name, "listen=ok", "dial=ok", "accept=ok", r.fmt("echo", time.Time{}),
		"local_v6="+yesno(strings.HasPrefix(c.LocalAddr().String(), "[::1]:")))
}

var scenarios = []struct {
	name string
	fn   func(string)
}{
	{"past_deadline_with_data", pastDeadlineWithData},
	{"deadline_50ms", deadline50ms},
	{"clear_past_deadline", clearPastDeadline},
	{"rw_independent", rwIndependent},
	{"unblock_blocked_read", unblockBlockedRead},
	{"peer_close_eof", peerCloseEOF},
	{"zero_byte_read", zeroByteRead},
	{"zero_byte_write", zeroByteWrite},
	{"deadline_sweep", deadlineSweep},
	{"max_deadline", maxDeadlineNeverFires},
	{"accept_past_deadline", acceptPastDeadline},
	{"write_full_buffer", writeFullBuffer},
	{"write_full_unblock", writeFullUnblock},
	{"deadline_churn", deadlineChurn},
	{"dial_refused", dialRefused},
	{"close_write", closeWrite},
	{"ipv6_loopback", ipv6Loopback},
}

func main() {
	// Optional arguments: run only the named scenarios.
	only := map[string]bool{}
	for _, a := range os.Args[1:] {
		only[a] = true
	}
	for _, sc := range scenarios {
		if len(only) > 0 && !only[sc.name] {
			continue
		}
		sc.fn(sc.name)
	}
}
