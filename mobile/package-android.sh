#!/usr/bin/env bash
# package-android.sh: build Tumble's APKs, one per ABI, into dist/:
#
#   dist/tumble-$APP_VERSION-android-arm64-v8a.apk
#   dist/tumble-$APP_VERSION-android-armeabi-v7a.apk
#   dist/tumble-$APP_VERSION-android-x86_64.apk
#
# Run by `make package-android` from the repository root, which passes
# APP_VERSION, TOR_VERSION, TUMBLE_CACHE, FYNE, FYNE_TOOLS_VERSION and GO.
# Needs ANDROID_NDK_HOME; without it, one line says so and the exit status
# is 1. ANDROID_ABIS limits the ABIs (e.g. ANDROID_ABIS=arm64-v8a).
#
# Each ABI is its own `fyne package --os android/ARCH` run because the C
# libraries (Tor, libevent, OpenSSL, Opus, speexdsp from
# mobile/build-android-libs.sh) differ per ABI and cgo takes one set of
# flags per build. fyne package needs the main package's directory as its
# working directory and writes into it (metadata file, APK), so it runs in
# a copy of cmd/tumble under dist/_android/ ("_" keeps it out of ./...),
# with FyneApp.toml and Tumble's own AndroidManifest.xml
# (mobile/android/AndroidManifest.xml.in: microphone permission, no
# backup, not debuggable, no re-creation on rotation).
#
# fyne package (v1.7.4) cannot give an app resource other than the icon,
# so mobile/internal/apkrules then adds the data extraction rules to each
# APK: res/xml/data_extraction_rules.xml excluding every domain from cloud
# backup and device-to-device transfer, its @xml/data_extraction_rules
# entry in resources.arsc and android:dataExtractionRules on <application>
# (apps that target Android 12 and later: allowBackup="false" no longer
# stops device-to-device transfer there). That voids fyne's signature, so
# mobile/sign-apk.sh aligns and signs every APK again: with
# TUMBLE_ANDROID_KEYSTORE (and TUMBLE_ANDROID_KEY_ALIAS and apksigner's
# password prompts) if set, else with a local debug key for testing. Needs
# apksigner and zipalign (Debian packages).
set -euo pipefail

if [ -z "${ANDROID_NDK_HOME:-}" ]; then
	echo "package-android: ANDROID_NDK_HOME is not set: install an Android NDK (r23 or later) and set ANDROID_NDK_HOME to its directory" >&2
	exit 1
fi
if [ ! -x "$ANDROID_NDK_HOME/toolchains/llvm/prebuilt/linux-x86_64/bin/clang" ]; then
	echo "package-android: ANDROID_NDK_HOME=$ANDROID_NDK_HOME is not an Android NDK for Linux x86-64 (no toolchains/llvm/prebuilt/linux-x86_64/bin/clang)" >&2
	exit 1
fi
for tool in apksigner zipalign; do
	command -v "$tool" >/dev/null || { echo "package-android: $tool is not installed (apt-get install $tool)" >&2; exit 1; }
done
for v in APP_VERSION TOR_VERSION TUMBLE_CACHE FYNE FYNE_TOOLS_VERSION GO; do
	[ -n "${!v:-}" ] || { echo "package-android: $v is not set (run it through make package-android)" >&2; exit 2; }
done

root=$(pwd)
[ -f "$root/FyneApp.toml" ] && [ -d "$root/cmd/tumble" ] || { echo "package-android: run from the repository root" >&2; exit 2; }

"$FYNE" version 2>/dev/null | grep -qF "cli version: $FYNE_TOOLS_VERSION" ||
	"$GO" install "fyne.io/tools/cmd/fyne@$FYNE_TOOLS_VERSION"

read -r -a abis <<<"${ANDROID_ABIS:-arm64-v8a armeabi-v7a x86_64}"
libs="$TUMBLE_CACHE/android-libs-$TOR_VERSION"
"$root/mobile/build-android-libs.sh" "$TOR_VERSION" "$libs" "${abis[@]}"

app_id=$(sed -n 's/^[[:space:]]*ID[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' FyneApp.toml | head -n1)
build=$(sed -n 's/^[[:space:]]*Build[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' FyneApp.toml | head -n1)
[ -n "$app_id" ] && [ -n "$build" ] || { echo "package-android: FyneApp.toml lacks Details.ID or Details.Build" >&2; exit 1; }

mkdir -p dist/_android
apkrules="$root/dist/_android/apkrules"
"$GO" build -o "$apkrules" ./mobile/internal/apkrules
for abi in "${abis[@]}"; do
	case $abi in
	arm64-v8a) goarch=arm64 n=1 ;;
	armeabi-v7a) goarch=arm n=2 ;;
	x86_64) goarch=amd64 n=3 ;;
	*) echo "package-android: unknown ABI $abi" >&2; exit 2 ;;
	esac
	stage="$root/dist/_android/tumble"
	rm -rf "$stage"
	mkdir -p "$stage"
	# The main package without its tests, plus the packaging metadata.
	find cmd/tumble -maxdepth 1 -type f ! -name '*_test.go' -exec cp {} "$stage/" \;
	cp FyneApp.toml "$stage/FyneApp.toml"
	# Per-ABI APKs need distinct version codes: build number * 10 + ABI.
	sed -e "s/@APP_ID@/$app_id/" -e "s/@VERSION_CODE@/$((build * 10 + n))/" \
		-e "s/@VERSION_NAME@/$APP_VERSION/" \
		mobile/android/AndroidManifest.xml.in >"$stage/AndroidManifest.xml"

	echo "package-android: $abi"
	(cd "$stage" &&
		CGO_CFLAGS="-I$libs/$abi/include" CGO_LDFLAGS="-L$libs/$abi/lib" \
			PKG_CONFIG_LIBDIR="$libs/$abi/lib/pkgconfig" PKG_CONFIG_PATH= \
			"$FYNE" package --os "android/$goarch" --tags nolibopusfile,libtor \
			--name Tumble --app-id "$app_id" --app-version "$APP_VERSION" --app-build "$build" \
			--icon "$root/mobile/icon/Icon.png")
	apk="dist/tumble-$APP_VERSION-android-$abi.apk"
	"$apkrules" "$stage/Tumble.apk" "$stage/unsigned.apk"
	"$root/mobile/sign-apk.sh" "$stage/unsigned.apk" "$apk"
done
rm -rf "$root/dist/_android"
