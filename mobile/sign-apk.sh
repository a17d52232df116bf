#!/usr/bin/env bash
# sign-apk.sh IN.apk OUT.apk: align IN (zipalign -p 4: stored entries on
# 4-byte boundaries, native libraries on pages) and sign it with apksigner
# (v1, v2 and v3 schemes as apksigner chooses for the APK's minSdkVersion)
# into OUT, then verify OUT. mobile/package-android.sh runs it on every APK
# after mobile/internal/apkrules, whose changes void fyne's own signature.
#
# Key: TUMBLE_ANDROID_KEYSTORE names a keystore for release (with
# TUMBLE_ANDROID_KEY_ALIAS and apksigner's password prompts). Without it, a
# debug key kept in TUMBLE_ANDROID_DEBUG_KEY_DIR (default
# $TUMBLE_CACHE/android-debug-key, else ~/.cache/tumble/android-debug-key)
# and made with openssl on first use: APKs signed with it install and
# update one another on the machine that made them, and are for testing only.
# Needs apksigner and zipalign (Debian packages of the same names).
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: sign-apk.sh IN.apk OUT.apk" >&2; exit 2; }
in=$1 out=$2
for tool in zipalign apksigner; do
	command -v "$tool" >/dev/null || { echo "sign-apk: $tool is not installed (apt-get install $tool)" >&2; exit 1; }
done

aligned="$out.aligned"
trap 'rm -f "$aligned"' EXIT
zipalign -f -p 4 "$in" "$aligned"

if [ -n "${TUMBLE_ANDROID_KEYSTORE:-}" ]; then
	apksigner sign --ks "$TUMBLE_ANDROID_KEYSTORE" ${TUMBLE_ANDROID_KEY_ALIAS:+--ks-key-alias "$TUMBLE_ANDROID_KEY_ALIAS"} \
		--out "$out" "$aligned"
	key="$TUMBLE_ANDROID_KEYSTORE"
else
	dir=${TUMBLE_ANDROID_DEBUG_KEY_DIR:-${TUMBLE_CACHE:-$HOME/.cache/tumble}/android-debug-key}
	if [ ! -f "$dir/key.pk8" ] || [ ! -f "$dir/cert.pem" ]; then
		command -v openssl >/dev/null || { echo "sign-apk: openssl is not installed (needed to make the debug key)" >&2; exit 1; }
		mkdir -p "$dir"
		chmod 700 "$dir"
		openssl req -x509 -newkey rsa:3072 -nodes -days 10950 -subj "/CN=Tumble debug key" \
			-keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
		openssl pkcs8 -topk8 -nocrypt -in "$dir/key.pem" -outform DER -out "$dir/key.pk8"
		rm -f "$dir/key.pem"
	fi
	apksigner sign --key "$dir/key.pk8" --cert "$dir/cert.pem" --out "$out" "$aligned"
	key="the debug key in $dir: for testing only; set TUMBLE_ANDROID_KEYSTORE to sign for release"
fi
rm -f "$out.idsig" # written by apksigner for the v4 scheme; not shipped
apksigner verify "$out"
echo "sign-apk: $out (signed with $key)"
