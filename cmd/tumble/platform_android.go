//go:build android

package main

import (
	"fmt"
	"os"

	"github.com/tumble-voip/tumble/mobile"
)

// newPlatform returns the Android glue (package mobile, see phone.go)
// over the running activity, which Fyne's driver has from the start of
// main. FILESDIR is the app's private files directory, set by Fyne's
// driver; standard error goes to the system log.
func newPlatform() (platform, error) {
	p, err := mobile.NewPlatform()
	if err != nil {
		return nil, err
	}
	ph, err := mobile.NewPhone(mobile.PhoneConfig{
		Platform: p,
		FilesDir: os.Getenv("FILESDIR"),
		Exit:     func() { os.Exit(0) },
		Logf: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "tumble: "+format+"\n", args...)
		},
	})
	if err != nil {
		return nil, err
	}
	return phone{ph}, nil
}
