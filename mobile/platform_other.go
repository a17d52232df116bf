//go:build !android || !cgo

package mobile

// NewPlatform returns ErrNotAndroid: the Android platform needs an Android
// build with cgo (JNI).
func NewPlatform() (Platform, error) { return nil, ErrNotAndroid }
