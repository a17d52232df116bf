//go:build !android

package main

// newPlatform returns nil: a desktop needs nothing beyond the controller
// and the window.
func newPlatform() (platform, error) { return nil, nil }
