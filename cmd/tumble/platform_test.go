package main

import (
	"testing"
)

// The Android build's platform is a phone; this line type-checks that
// pairing on every platform (platform_android.go cannot be compiled here:
// no NDK).
var _ platform = phone{}

func TestNoPlatformOnDesktop(t *testing.T) {
	p, err := newPlatform()
	if p != nil || err != nil {
		t.Errorf("newPlatform() = %v, %v; a desktop adds nothing", p, err)
	}
}
