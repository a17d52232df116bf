// Command apkrules adds Tumble's data extraction rules to an APK written by
// fyne package: the compiled res/xml/data_extraction_rules.xml excluding
// every domain from cloud backup and from device-to-device transfer, its
// @xml/data_extraction_rules entry in resources.arsc, and
// android:dataExtractionRules on <application> referring to it (see package
// mobile/internal/apkres). fyne.io/tools v1.7.4 cannot express an app
// resource other than the icon, so mobile/package-android.sh runs
//
//	apkrules IN.apk OUT.apk
//
// after fyne package. OUT.apk is unsigned: align and sign it (zipalign,
// apksigner).
package main

import (
	"fmt"
	"os"

	"github.com/tumble-voip/tumble/mobile/internal/apkres"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: apkrules IN.apk OUT.apk")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "apkrules:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	apk, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	patched, err := apkres.AddDataExtractionRules(apk)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := os.WriteFile(out, patched, 0o644); err != nil {
		return err
	}
	return nil
}
