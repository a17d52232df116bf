package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestRecorderLateSpeakerUnknownSessionAndLimit: a speaker first heard
// after an hour costs no disk space for the hour of silence; voice from
// sessions the server never announced is not recorded; the size limit
// stops recording with a clear error.
func TestRecorderLateSpeakerUnknownSessionAndLimit(t *testing.T) {
	dir := t.TempDir()
	names := func(s uint32) string {
		if s == 1 {
			return "alice"
		}
		return "" // unknown
	}
	r, err := newRecorder(dir, names, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	hour := int64(3600 * 48000)
	frame := make([]int16, 480)
	for i := range frame {
		frame[i] = 1000
	}
	r.record(1, hour, frame)
	for s := uint32(2); s < 52; s++ { // 50 fresh session IDs
		r.record(s, hour, frame)
	}
	select {
	case <-r.Failed():
		t.Fatalf("failed early: %v", r.Err())
	default:
	}
	for i := int64(1); i < 1200; i++ { // 960-byte frames past 1 MiB
		r.record(1, hour+480*i, frame)
	}
	select {
	case <-r.Failed():
	default:
		t.Fatal("no error past --record-max")
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "--record-max (1 MB)") {
		t.Errorf("error %v, want one naming --record-max", err)
	}
	if cerr := r.Close(); cerr == nil {
		t.Error("Close returned no error after the limit")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "alice.wav" {
		t.Errorf("files %v, want only alice.wav", entries)
	}
	fi, err := os.Stat(filepath.Join(dir, "alice.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 2*hour {
		t.Errorf("alice.wav is %d bytes, shorter than the hour before her", fi.Size())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks*512 > 4<<20 {
		t.Errorf("alice.wav uses %d MB on disk for 1 MB of voice", st.Blocks*512>>20)
	}
}
