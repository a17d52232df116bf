//go:build cgo

package dsp

import "unsafe"

// ctlPtr converts a pointer for a speex ctl argument.
func ctlPtr[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }
