//go:build !cgo

package device

// Context stands for a miniaudio context in a build without cgo, where
// NewContext always fails with ErrNoCgo; its methods fail the same way.
type Context struct{}

// NewContext returns ErrNoCgo: this build has no system sound devices.
func NewContext(backends ...Backend) (*Context, error) {
	return nil, ErrNoCgo
}

// Devices returns ErrNoCgo.
func (c *Context) Devices(kind Kind) ([]Info, error) { return nil, ErrNoCgo }

// OpenCapture returns ErrNoCgo.
func (c *Context) OpenCapture(id string, cfg Config, fn CaptureFunc) (Device, error) {
	return nil, ErrNoCgo
}

// OpenPlayback returns ErrNoCgo.
func (c *Context) OpenPlayback(id string, cfg Config, fn PlaybackFunc) (Device, error) {
	return nil, ErrNoCgo
}

// Close does nothing: there is nothing to free.
func (c *Context) Close() error { return nil }
