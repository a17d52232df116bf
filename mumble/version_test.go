package mumble

import (
	"testing"
	"time"
)

func TestVersionEncodings(t *testing.T) {
	v := Version{1, 5, 735}
	if v.V1() != 0x0105FF {
		t.Errorf("V1 caps the patch at 255: %#x", v.V1())
	}
	if v.V2() != 1<<48|5<<32|735<<16 || VersionFromV2(v.V2()) != v {
		t.Errorf("V2 %#x", v.V2())
	}
	if VersionFromV1(0x010304) != (Version{1, 3, 4}) || (Version{1, 3, 4}).String() != "1.3.4" {
		t.Error("V1 decoding")
	}
	if (Version{1, 4, 9}).Compare(Version{1, 5, 0}) != -1 || (Version{2, 0, 0}).Compare(Version{1, 9, 9}) != 1 || v.Compare(v) != 0 {
		t.Error("Compare")
	}
	// The voice format rule: protobuf iff both sides are 1.5.0 or newer.
	for _, tc := range []struct {
		ours, server Version
		want         VoiceFormat
	}{
		{Version{1, 5, 0}, Version{1, 5, 0}, VoiceProtobuf},
		{Version{1, 5, 0}, Version{1, 4, 255}, VoiceLegacy},
		{Version{1, 4, 0}, Version{1, 5, 735}, VoiceLegacy},
		{Version{1, 5, 0}, Version{}, VoiceLegacy},
	} {
		if got := voiceFormatFor(tc.ours, tc.server); got != tc.want {
			t.Errorf("voiceFormatFor(%v, %v) = %v", tc.ours, tc.server, got)
		}
	}
}

func TestQueueOrderAndStop(t *testing.T) {
	q := newQueue[int](1<<20, false)
	for i := range 10000 { // never blocks, nobody reading yet
		q.push(i)
	}
	q.finish()
	q.push(-1) // ignored after finish
	n := 0
	for v := range q.out {
		if v != n {
			t.Fatalf("got %d, want %d", v, n)
		}
		n++
	}
	if n != 10000 {
		t.Fatalf("delivered %d", n)
	}

	q = newQueue[int](1<<20, false)
	q.push(1)
	done := make(chan struct{})
	go func() {
		q.stop() // with an undelivered item
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("stop hangs")
	}
	if _, ok := <-q.out; ok {
		t.Error("out not closed after stop")
	}
	q.stop() // twice is fine
}
