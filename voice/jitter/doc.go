// Package jitter holds the per-speaker adaptive jitter buffer of the receive
// path and the simulation tools that measure it.
//
// A Buffer takes Mumble voice packets as they arrive from the network (Push)
// and tells the audio thread, once per 10 ms playback tick, what to play
// (Next): a packet to decode, the next frame of a packet decoded earlier, a
// frame to conceal, or silence. It owns only timing decisions; decoding and
// mixing live elsewhere.
//
// # Model
//
// Mumble numbers voice in 10 ms frames: a packet with sequence number s and
// n frames covers frames s..s+n-1. For every packet the buffer computes its
// arrival offset, arrival time minus s*10 ms, and keeps the smallest offset
// seen over a sliding window (BaseWindow) as the base: the network's fastest
// recent path. A packet's jitter is its offset minus the base. Frame s is
// played when the playback clock passes base + s*10 ms + delay, and delay
// is steered towards a target: the chosen percentile of the jitter of the
// last Window packets, never below MinDelay and never above MaxDelay.
//
//   - Growing: when the frame due is missing and nothing later has arrived
//     (a stall), the buffer conceals one frame and waits for it instead of
//     skipping it ("stretching"), so a late packet is delayed, not lost. The
//     wait ends at MaxDelay, and the spurt ends.
//   - Late starts: a talk spurt whose first frame was due long ago (a stall
//     held it, or held the rest of a spurt past MaxDelay) is played late,
//     not cut, up to LateStart (1.5 s). Tor's stalls of half a second to
//     well over a second, often at the start of a spurt, would otherwise
//     cost whole words.
//   - Catching up: a new talk spurt starts as soon as its first frame is
//     due, so the silence between spurts absorbs excess delay first. Within
//     a spurt, when the delay exceeds the target by at least a packet and
//     more audio is queued, whole packets are discarded: quiet ones (half
//     the average bytes per frame or less) at once, others only after the
//     excess has lasted a second, and then at most one per 100 ms. Delay
//     therefore does not pile up over a long talk.
//   - Bounds: within a talk spurt the delay never rises above MaxDelay, or
//     above the delay the spurt started with if that was larger (then the
//     bound follows the delay down as catch-up drops and pauses shed it);
//     no delay ever exceeds LateStart. Frames that would need more are
//     discarded and counted as late. Config.LateStart = MaxDelay makes
//     MaxDelay a hard bound on every frame, as it was before late starts.
//
// A sender whose sequence numbers count the pauses between spurts (the
// official client and Tumble count 10 ms frames in time) says by its
// numbers when a packet is late, so a late packet of such a sender is
// never taken for a renumbering (see learnTimed in numbering.go).
//
// Senders number packets in one of two ways: by 10 ms frames (the official
// client, +2 per 20 ms packet) or +1 per packet (gumble-based bots, some web
// clients). The buffer learns which per speaker from each packet's duration
// (read from its Opus TOC by the caller) against the step to the next
// sequence number, keeps checking, and scales sequence numbers to frames.
//
// Sequence numbers are mapped onto an internal, continuous frame counter so
// that a speaker whose client restarts numbering for each transmission, or
// jumps, is handled like one that counts continuously (as Mumble does).
// Reordered and duplicate packets are sorted out by sequence number; a
// packet that arrives after its frame was played is counted as late.
//
// # Simulation
//
// Trace, NewTrace and the Network models (Fixed, Gaussian, Reorder, Tor)
// generate synthetic arrival traces; Replay plays a trace through a Buffer
// on a virtual clock and reports late loss and added delay. "Added delay"
// is the playout time of a packet's first frame minus its arrival time: the
// delay the buffer adds on top of the network's own.
package jitter
