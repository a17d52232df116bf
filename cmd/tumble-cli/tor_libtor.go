//go:build libtor

package main

import (
	"github.com/cretz/bine/process"

	"github.com/tumble-voip/tumble/tor/libtor"
)

// embeddedTor returns the in-process Tor linked into this binary.
func embeddedTor() process.Creator { return libtor.Creator() }
