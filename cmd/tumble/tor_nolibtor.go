//go:build !libtor

package main

import "github.com/cretz/bine/process"

// torCreator returns nil: this build has no embedded Tor (build with
// -tags libtor for one). Tumble says so and still connects through an
// external Tor (--tor socks=HOST:PORT) or, explicitly, without Tor.
func torCreator() process.Creator { return nil }
