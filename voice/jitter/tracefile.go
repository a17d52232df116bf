package jitter

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Trace files hold recorded traces, one packet per line in arrival order:
//
//	# tumble jitter trace 1
//	# name NAME
//	SEQ FRAMES TERMINATOR SIZE SENT_US AT_US
//
// TERMINATOR is 0 or 1; SENT_US and AT_US are microseconds from the start
// of the recording, on one clock. Other lines starting with # are comments.
const traceFileMagic = "# tumble jitter trace 1"

// maxTraceFilePackets bounds what ReadTrace accepts (a day of 10 ms
// packets).
const maxTraceFilePackets = 24 * 3600 * 100

// WriteTrace writes tr to w in the trace file format, with comment lines
// (without their "# ") after the header.
func WriteTrace(w io.Writer, tr Trace, comments ...string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s\n# name %s\n", traceFileMagic, strings.ReplaceAll(tr.Name, "\n", " "))
	for _, c := range comments {
		for _, l := range strings.Split(c, "\n") {
			fmt.Fprintf(bw, "# %s\n", l)
		}
	}
	for _, p := range tr.Packets {
		term := 0
		if p.Terminator {
			term = 1
		}
		fmt.Fprintf(bw, "%d %d %d %d %d %d\n", p.Seq, p.Frames, term, p.Size, p.Sent.Microseconds(), p.At.Microseconds())
	}
	return bw.Flush()
}

// ReadTrace reads a trace written by WriteTrace. Packets must be in
// arrival order with 1 to MaxPacketFrames frames.
func ReadTrace(r io.Reader) (Trace, error) {
	sc := bufio.NewScanner(r)
	var tr Trace
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if line == 1 {
			if s != traceFileMagic {
				return Trace{}, fmt.Errorf("jitter: trace file: first line %q, want %q", s, traceFileMagic)
			}
			continue
		}
		if name, ok := strings.CutPrefix(s, "# name "); ok && tr.Name == "" {
			tr.Name = name
			continue
		}
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		f := strings.Fields(s)
		if len(f) != 6 {
			return Trace{}, fmt.Errorf("jitter: trace file line %d: %d fields, want 6", line, len(f))
		}
		var v [6]int64
		for i, x := range f {
			n, err := strconv.ParseInt(x, 10, 64)
			if err != nil || n < 0 {
				return Trace{}, fmt.Errorf("jitter: trace file line %d: field %d: bad number %q", line, i+1, x)
			}
			v[i] = n
		}
		p := Packet{Seq: uint64(v[0]), Frames: int(v[1]), Terminator: v[2] == 1, Size: int(v[3]),
			Sent: time.Duration(v[4]) * time.Microsecond, At: time.Duration(v[5]) * time.Microsecond}
		switch {
		case p.Frames < 1 || p.Frames > MaxPacketFrames:
			return Trace{}, fmt.Errorf("jitter: trace file line %d: %d frames outside 1..%d", line, p.Frames, MaxPacketFrames)
		case v[2] > 1:
			return Trace{}, fmt.Errorf("jitter: trace file line %d: terminator %d, want 0 or 1", line, v[2])
		case p.Size > 1<<16 || v[4] > int64(24*time.Hour/time.Microsecond) || v[5] > int64(24*time.Hour/time.Microsecond):
			return Trace{}, fmt.Errorf("jitter: trace file line %d: size or time out of range", line)
		case len(tr.Packets) > 0 && p.At < tr.Packets[len(tr.Packets)-1].At:
			return Trace{}, fmt.Errorf("jitter: trace file line %d: packets not in arrival order", line)
		case len(tr.Packets) == maxTraceFilePackets:
			return Trace{}, fmt.Errorf("jitter: trace file: more than %d packets", maxTraceFilePackets)
		}
		tr.Packets = append(tr.Packets, p)
	}
	if err := sc.Err(); err != nil {
		return Trace{}, fmt.Errorf("jitter: trace file: %w", err)
	}
	if line == 0 {
		return Trace{}, fmt.Errorf("jitter: trace file: empty")
	}
	return tr, nil
}

// ReadTraceFile reads a trace file from disk.
func ReadTraceFile(path string) (Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return Trace{}, fmt.Errorf("jitter: %w", err)
	}
	defer f.Close()
	return ReadTrace(f)
}
