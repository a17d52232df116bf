package jitter

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestTraceFileRoundTrip(t *testing.T) {
	tr := mustTrace(t, "tor model", Conversation(20*time.Second), Tor{}, 3)
	var b bytes.Buffer
	if err := WriteTrace(&b, tr, "recorded by a test", "two lines"); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTrace(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != tr.Name || len(got.Packets) != len(tr.Packets) {
		t.Fatalf("got %q with %d packets, want %q with %d", got.Name, len(got.Packets), tr.Name, len(tr.Packets))
	}
	for i, p := range tr.Packets {
		p.Sent = p.Sent.Truncate(time.Microsecond)
		p.At = p.At.Truncate(time.Microsecond)
		if got.Packets[i] != p {
			t.Fatalf("packet %d: got %+v, want %+v", i, got.Packets[i], p)
		}
	}
}

func TestReadTraceErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"not a trace\n",
		traceFileMagic + "\n1 2 0 30 100\n",
		traceFileMagic + "\n1 0 0 30 100 200\n",
		traceFileMagic + "\n1 2 2 30 100 200\n",
		traceFileMagic + "\n1 2 0 30 100 -200\n",
		traceFileMagic + "\n1 2 0 30 100 200\n3 2 0 30 120 150\n",
	} {
		if _, err := ReadTrace(strings.NewReader(in)); err == nil {
			t.Errorf("ReadTrace(%q) accepted", in)
		}
	}
}

// FuzzReadTrace checks that ReadTrace never panics and that what it
// accepts writes back to something it reads the same.
func FuzzReadTrace(f *testing.F) {
	f.Add([]byte(traceFileMagic + "\n# name x\n0 2 0 30 20000 250000\n2 2 1 30 40000 260000\n"))
	f.Add([]byte(traceFileMagic + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ReadTrace(bytes.NewReader(data))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WriteTrace(&b, tr); err != nil {
			t.Fatal(err)
		}
		again, err := ReadTrace(&b)
		if err != nil || len(again.Packets) != len(tr.Packets) {
			t.Fatalf("rewritten trace: %v, %d vs %d packets", err, len(again.Packets), len(tr.Packets))
		}
	})
}
