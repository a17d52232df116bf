// Package speexjb wraps libspeexdsp's adaptive jitter buffer (speex/
// speex_jitter.h), the receive buffer of the official Mumble client, so that
// Tumble's buffer can be measured against it on the same traces. The C
// state is freed by Close, not by a finalizer.
package speexjb

/*
#cgo pkg-config: speexdsp
#include <stdlib.h>
#include <speex/speex_jitter.h>

static int jb_put(JitterBuffer *jb, spx_uint32_t ts, spx_uint32_t span, spx_uint32_t id) {
	char data[4];
	JitterBufferPacket p;
	data[0] = id; data[1] = id >> 8; data[2] = id >> 16; data[3] = id >> 24;
	p.data = data;
	p.len = 4;
	p.timestamp = ts;
	p.span = span;
	p.sequence = 0;
	p.user_data = id;
	jitter_buffer_put(jb, &p);
	return 0;
}

static int jb_get(JitterBuffer *jb, spx_int32_t span, spx_uint32_t *ts, spx_uint32_t *pspan, spx_uint32_t *id) {
	char data[64];
	JitterBufferPacket p;
	spx_int32_t start = 0;
	p.data = data;
	p.len = sizeof data;
	int r = jitter_buffer_get(jb, &p, span, &start);
	*ts = p.timestamp;
	*pspan = p.span;
	*id = p.user_data;
	return r;
}

static int jb_ctl_int(JitterBuffer *jb, int req, spx_int32_t v) {
	return jitter_buffer_ctl(jb, req, &v);
}

static spx_int32_t jb_available(JitterBuffer *jb) {
	spx_int32_t v = 0;
	jitter_buffer_ctl(jb, JITTER_BUFFER_GET_AVAILABLE_COUNT, &v);
	return v;
}
*/
import "C"

import "errors"

// Results of Get.
const (
	OK        = int(C.JITTER_BUFFER_OK)
	Missing   = int(C.JITTER_BUFFER_MISSING)
	Insertion = int(C.JITTER_BUFFER_INSERTION)
)

// A Buffer is one speexdsp JitterBuffer.
type Buffer struct {
	jb *C.JitterBuffer
}

// New returns a buffer with the given step (the timestamp units of one
// Get, in Mumble 480 samples = 10 ms) and margin (JITTER_BUFFER_SET_MARGIN,
// in timestamp units).
func New(step, margin int) (*Buffer, error) {
	if step <= 0 || margin < 0 {
		return nil, errors.New("speexjb: step must be positive and margin not negative")
	}
	jb := C.jitter_buffer_init(C.int(step))
	if jb == nil {
		return nil, errors.New("speexjb: jitter_buffer_init failed")
	}
	C.jb_ctl_int(jb, C.JITTER_BUFFER_SET_MARGIN, C.spx_int32_t(margin))
	return &Buffer{jb: jb}, nil
}

// Put adds a packet with timestamp ts and duration span (timestamp units)
// identified by id.
func (b *Buffer) Put(ts, span, id uint32) {
	C.jb_put(b.jb, C.spx_uint32_t(ts), C.spx_uint32_t(span), C.spx_uint32_t(id))
}

// Get asks for span units of audio: jitter_buffer_get. It returns OK with
// the packet's id, timestamp and span, or Missing/Insertion.
func (b *Buffer) Get(span int) (result int, id, ts, pspan uint32) {
	var cts, cspan, cid C.spx_uint32_t
	r := C.jb_get(b.jb, C.spx_int32_t(span), &cts, &cspan, &cid)
	return int(r), uint32(cid), uint32(cts), uint32(cspan)
}

// Tick advances the buffer by one step: jitter_buffer_tick.
func (b *Buffer) Tick() { C.jitter_buffer_tick(b.jb) }

// UpdateDelay lets the buffer adjust its delay: jitter_buffer_update_delay
// without a packet, as Mumble calls it.
func (b *Buffer) UpdateDelay() { C.jitter_buffer_update_delay(b.jb, nil, nil) }

// Available returns JITTER_BUFFER_GET_AVAILABLE_COUNT.
func (b *Buffer) Available() int { return int(C.jb_available(b.jb)) }

// PointerTimestamp returns jitter_buffer_get_pointer_timestamp.
func (b *Buffer) PointerTimestamp() int { return int(C.jitter_buffer_get_pointer_timestamp(b.jb)) }

// Close frees the buffer.
func (b *Buffer) Close() {
	if b.jb != nil {
		C.jitter_buffer_destroy(b.jb)
		b.jb = nil
	}
}
