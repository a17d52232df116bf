//go:build cgo

package voice

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/voice/jitter"
)

func TestReceiverPacketNumbering(t *testing.T) {
	// 2.04 s of tone (a whole number of 60 ms packets) from a sender that
	// numbers packets +1 each, at every packet length a Mumble client
	// sends, one packet lost in the middle and one overtaken by the next:
	// the loss is concealed frame for frame, nothing is late, the tone
	// comes out clean, and the counts equal those of the same stream
	// numbered by frames (the reference). A packet dropped to catch up
	// after waiting for the overtaken one is the delay control at work.
	ref := map[int]jitter.Stats{}
	for _, ms := range []int{10, 20, 40, 60} {
		for _, per := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dms/per-packet=%v", ms, per), func(t *testing.T) {
				pkts := rxEncodeMs(t, rxTone(440, 0.25, 0, 97920), ms, per, 777, 0)
				lost := len(pkts) / 2
				pkts = append(pkts[:lost:lost], pkts[lost+1:]...)
				// One packet overtaken by the next.
				late := len(pkts) / 4
				pkts[late].sent, pkts[late+1].sent = pkts[late+1].sent, pkts[late].sent
				r := newTestReceiver(t, ReceiverConfig{JitterBuffer: time.Duration(2*ms) * time.Millisecond})
				out := rxRun(t, r, map[uint32][]rxPacket{3: pkts}, 50*time.Millisecond, 960, 3*time.Second)
				st, _ := r.SpeakerStats(3)
				j := st.Jitter
				frames := uint64(ms / 10)
				if j.Played+j.Dropped != 204-frames || j.Concealed != frames || j.Late != 0 {
					t.Errorf("played %d + dropped %d (want %d), concealed %d (want %d), late %d",
						j.Played, j.Dropped, 204-frames, j.Concealed, frames, j.Late)
				}
				// Both numberings are played alike.
				if per {
					if ref := ref[ms]; j.Played != ref.Played || j.Dropped != ref.Dropped || j.Concealed != ref.Concealed {
						t.Errorf("played/dropped/concealed %d/%d/%d, numbered by frames %d/%d/%d",
							j.Played, j.Dropped, j.Concealed, ref.Played, ref.Dropped, ref.Concealed)
					}
				} else {
					ref[ms] = j
				}
				if want := int(frames); per && j.FramesPerSeq != want || !per && j.FramesPerSeq != 1 {
					t.Errorf("FramesPerSeq %d", j.FramesPerSeq)
				}
				if p1, p2 := rxPower(out, 440), rxPower(out, 1320); p1 < 100*p2 {
					t.Errorf("tone not clean: 440 Hz %.3g, 1320 Hz %.3g", p1, p2)
				}
				if rms := rxRMS(out); math.Abs(20*math.Log10(rms/(0.25*32767/math.Sqrt2))-20*math.Log10(math.Sqrt(2.04/3))) > 2 {
					t.Errorf("level %.0f rms: not 2.04 s of tone in 3 s", rms)
				}
			})
		}
	}
}
