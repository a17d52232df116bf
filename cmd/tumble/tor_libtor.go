//go:build libtor

package main

import (
	"github.com/cretz/bine/process"

	"github.com/tumble-voip/tumble/tor/libtor"
)

// torCreator returns the embedded Tor of this build.
func torCreator() process.Creator { return libtor.Creator() }
