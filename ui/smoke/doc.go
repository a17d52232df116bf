// Package smoke holds the end-to-end smoke test of the tumble binary: it
// builds cmd/tumble, starts it under Xvfb with a bookmark for a local
// Mumble server, connects, takes a screenshot of the X screen with
// ImageMagick's import and reads it back with tesseract to check that the
// window shows the channel tree with the channel and the user.
//
// Run it with smoke.sh, which keeps the screenshots, or with
//
//	go test -tags nolibopusfile ./ui/smoke
//
// It is skipped with -short and when Xvfb, import or tesseract is missing
// (a failure instead when TUMBLE_REQUIRE_SERVERS=1). No package code lives
// here.
package smoke
