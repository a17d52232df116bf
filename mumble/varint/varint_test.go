package varint

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// edgeValues are the boundaries of every encoding form.
var edgeValues = []int64{
	0, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1FFFFF, 0x200000, 0x0FFFFFFF, 0x10000000,
	0xFFFFFFFF, 0x100000000, math.MaxInt64,
	-1, -2, -3, -4, -5, -0x80, -0x81, -0x4000, -0x4001, -(1 << 31),
	-(1 << 32), -(1 << 32) - 1, math.MinInt64,
}

func TestRoundTrip(t *testing.T) {
	for _, v := range edgeValues {
		for _, d := range []int64{-1, 0, 1} {
			x := v + d
			if (d > 0 && x < v) || (d < 0 && x > v) {
				continue // overflow
			}
			b := Append(nil, x)
			if len(b) != Len(x) {
				t.Errorf("Len(%d) = %d, encoding has %d bytes % x", x, Len(x), len(b), b)
			}
			if len(b) > MaxLen {
				t.Errorf("Append(%d) is %d bytes > MaxLen", x, len(b))
			}
			got, n, err := Decode(append(b, 0xAA, 0xBB))
			if err != nil || got != x || n != len(b) {
				t.Errorf("Decode(% x) = %d, %d, %v; want %d, %d, nil", b, got, n, err, x, len(b))
			}
		}
	}
}

// TestKnownEncodings pins the exact bytes of each form, as upstream's
// PacketDataStream writes them.
func TestKnownEncodings(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		want []byte
	}{
		{0, []byte{0x00}},
		{0x7F, []byte{0x7F}},
		{0x80, []byte{0x80, 0x80}},
		{0x2002, []byte{0xA0, 0x02}},
		{0x3FFF, []byte{0xBF, 0xFF}},
		{0x4000, []byte{0xC0, 0x40, 0x00}},
		{0x123456, []byte{0xD2, 0x34, 0x56}},
		{0x1234567, []byte{0xE1, 0x23, 0x45, 0x67}},
		{0x12345678, []byte{0xF0, 0x12, 0x34, 0x56, 0x78}},
		{0x123456789A, []byte{0xF4, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x9A}},
		{-1, []byte{0xFC}},
		{-4, []byte{0xFF}},
		{-5, []byte{0xF8, 0x04}},
		{-(1 << 32), []byte{0xF8, 0xF0, 0xFF, 0xFF, 0xFF, 0xFF}},
		{-(1 << 32) - 1, []byte{0xF4, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF}},
	} {
		if got := Append(nil, tc.v); !bytes.Equal(got, tc.want) {
			t.Errorf("Append(%d) = % x, want % x", tc.v, got, tc.want)
		}
	}
}

// TestDecodeNonMinimal checks encodings upstream accepts but never writes.
func TestDecodeNonMinimal(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want int64
	}{
		{[]byte{0x80, 0x05}, 5},
		{[]byte{0xF0, 0, 0, 0, 5}, 5},
		{[]byte{0xF3, 0, 0, 0, 5}, 5}, // low bits of 0xF0 form are ignored
		{[]byte{0xF8, 0xF8, 0x05}, 5}, // double negation
		{[]byte{0xF8, 0xFC}, 0},       // ^(^0)
		{[]byte{0xFB, 0x04}, -5},      // low bits of 0xF8 form are ignored
	} {
		got, n, err := Decode(tc.in)
		if err != nil || got != tc.want || n != len(tc.in) {
			t.Errorf("Decode(% x) = %d, %d, %v; want %d, %d, nil", tc.in, got, n, err, tc.want, len(tc.in))
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want error
	}{
		{nil, ErrShort},
		{[]byte{0x80}, ErrShort},
		{[]byte{0xC0, 0}, ErrShort},
		{[]byte{0xE0, 0, 0}, ErrShort},
		{[]byte{0xF0, 0, 0, 0}, ErrShort},
		{[]byte{0xF4, 0, 0, 0, 0, 0, 0, 0}, ErrShort},
		{[]byte{0xF8}, ErrShort},
		{bytes.Repeat([]byte{0xF8}, 9), ErrTooDeep},
	} {
		if _, n, err := Decode(tc.in); !errors.Is(err, tc.want) || n != 0 {
			t.Errorf("Decode(% x): n=%d err=%v, want 0, %v", tc.in, n, err, tc.want)
		}
	}
	// Eight negation prefixes are accepted, as upstream does.
	in := append(bytes.Repeat([]byte{0xF8}, 8), 0x07)
	if v, n, err := Decode(in); err != nil || v != 7 || n != 9 {
		t.Errorf("Decode(% x) = %d, %d, %v; want 7, 9, nil", in, v, n, err)
	}
}

func TestAppendNoAlloc(t *testing.T) {
	buf := make([]byte, 0, MaxLen)
	allocs := testing.AllocsPerRun(100, func() {
		buf = Append(buf[:0], math.MinInt64)
		_, _, _ = Decode(buf)
	})
	if allocs != 0 {
		t.Errorf("Append+Decode allocate %v times, want 0", allocs)
	}
}

func FuzzDecode(f *testing.F) {
	for _, v := range edgeValues {
		f.Add(Append(nil, v))
	}
	f.Add([]byte{0xF8, 0xF8, 0x05})
	f.Add(bytes.Repeat([]byte{0xF8}, 9))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := Decode(b)
		if err != nil {
			if n != 0 || v != 0 {
				t.Fatalf("Decode(% x) = %d, %d with error %v", b, v, n, err)
			}
			return
		}
		if n < 1 || n > len(b) {
			t.Fatalf("Decode(% x) read %d bytes", b, n)
		}
		enc := Append(nil, v)
		if len(enc) > n && n > 0 && b[0]&0xFC != 0xF8 {
			// A form without negation prefixes is never shorter than the
			// canonical encoding.
			t.Fatalf("canonical encoding of %d (% x) is longer than the input % x", v, enc, b[:n])
		}
		v2, n2, err := Decode(enc)
		if err != nil || v2 != v || n2 != len(enc) {
			t.Fatalf("re-decode of %d: % x -> %d, %d, %v", v, enc, v2, n2, err)
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, MaxLen)
	for i := range b.N {
		buf = Append(buf[:0], int64(i))
	}
}

func BenchmarkDecode(b *testing.B) {
	b.ReportAllocs()
	enc := Append(nil, 0x12345678)
	for range b.N {
		if _, _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}
