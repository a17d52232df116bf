//go:build !cgo || !linux

package hotkey

const supported = false

type x11Grab struct{}

func grabX11(display, sym string, onChange func(bool)) (*x11Grab, error) {
	return nil, ErrUnsupported
}

func (*x11Grab) close() error { return nil }
