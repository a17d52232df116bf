#!/usr/bin/env bash
# build-android-libs.sh TOR_VERSION OUTDIR [ABI...]
#
# Cross-builds, with the Android NDK's clang, the C libraries the Android app
# links, for each ABI (default: arm64-v8a armeabi-v7a x86_64):
#
#   Tor's libtor.a    the same Debian source package (tor=TOR_VERSION) and
#                     configure flags as tor/libtor/build-libtor.sh, plus
#                     --enable-android
#   libevent, OpenSSL Tor's dependencies (Debian's source packages); zlib is
#                     the NDK's own libz.a
#   libopus, libspeexdsp  the voice codec and DSP (Debian's source packages)
#
# into OUTDIR/ABI/{lib,include,lib/pkgconfig}. Then, per ABI:
#
#   CGO_CFLAGS=-I$OUTDIR/$ABI/include CGO_LDFLAGS=-L$OUTDIR/$ABI/lib
#   PKG_CONFIG_LIBDIR=$OUTDIR/$ABI/lib/pkgconfig
#
# Needs ANDROID_NDK_HOME (NDK r23 or later, Linux x86-64 host) and refuses to
# run without it. Source packages are fetched with apt-get under a private
# apt state (the system's apt configuration is not touched), as
# build-libtor.sh does; libevent, Opus and speexdsp are autoreconf'ed as in
# Debian's own builds (needs autoconf, automake, libtool). Idempotent per
# ABI: a stamp records what was built.
# ANDROID_API (default 21, Fyne's minimum) sets the API level built for.
set -euo pipefail

if [ -z "${ANDROID_NDK_HOME:-}" ]; then
	echo "build-android-libs: ANDROID_NDK_HOME is not set (install an Android NDK, r23 or later, and point ANDROID_NDK_HOME at it)" >&2
	exit 1
fi
if [ $# -lt 2 ] || [ -z "$1" ] || [ -z "$2" ]; then
	echo "usage: $0 TOR_VERSION OUTDIR [ABI...]" >&2
	exit 2
fi
tor_version=$1
outdir=$2
shift 2
abis=("$@")
[ ${#abis[@]} -gt 0 ] || abis=(arm64-v8a armeabi-v7a x86_64)
api=${ANDROID_API:-21}
jobs=${LIBTOR_JOBS:-$(nproc)}

toolbin="$ANDROID_NDK_HOME/toolchains/llvm/prebuilt/linux-x86_64/bin"
sysroot="$ANDROID_NDK_HOME/toolchains/llvm/prebuilt/linux-x86_64/sysroot"
[ -x "$toolbin/clang" ] || {
	echo "build-android-libs: $ANDROID_NDK_HOME is not an Android NDK for Linux x86-64 (no $toolbin/clang)" >&2
	exit 1
}
for tool in apt-get dpkg-source make perl pkg-config autoreconf automake libtoolize; do
	command -v "$tool" >/dev/null || {
		echo "build-android-libs: $tool not found (apt-get install dpkg-dev make perl pkg-config autoconf automake libtool)" >&2
		exit 1
	}
done

# Same client-only Tor as build-libtor.sh, with Android's logging.
tor_flags=(
	--disable-asciidoc --disable-manpage --disable-html-manual
	--disable-unittests --disable-module-relay --disable-module-dirauth
	--disable-lzma --disable-zstd --disable-seccomp --disable-libscrypt
	--disable-systemd --disable-tool-name-check --enable-android
)

# ABI -> clang target triple prefix, OpenSSL target.
triple_of() {
	case $1 in
	arm64-v8a) echo aarch64-linux-android ;;
	armeabi-v7a) echo armv7a-linux-androideabi ;;
	x86_64) echo x86_64-linux-android ;;
	*) return 1 ;;
	esac
}
openssl_target_of() {
	case $1 in
	arm64-v8a) echo android-arm64 ;;
	armeabi-v7a) echo android-arm ;;
	x86_64) echo android-x86_64 ;;
	esac
}
# Directory of the NDK's per-target libraries (libz.a lives there).
libdir_of() {
	case $1 in
	arm64-v8a) echo "$sysroot/usr/lib/aarch64-linux-android" ;;
	armeabi-v7a) echo "$sysroot/usr/lib/arm-linux-androideabi" ;;
	x86_64) echo "$sysroot/usr/lib/x86_64-linux-android" ;;
	esac
}

# fetch PKG[=VERSION]: unpack a Debian source package under the work
# directory (once) and print its directory.
work="${outdir}.work"
apt="$work/apt"
apt_opts=(
	-o "Dir::Etc::SourceList=$apt/etc/sources.list" -o "Dir::Etc::SourceParts=$apt/etc/parts"
	-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
	-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "APT::Sandbox::User=root"
)
fetch() {
	if [ ! -f "$apt/updated" ]; then
		mkdir -p "$apt/etc/parts" "$apt/lists/partial" "$apt/cache/archives/partial"
		local codename
		codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
		[ -n "$codename" ] || { echo "build-android-libs: cannot tell the Debian release" >&2; exit 1; }
		{
			echo "deb-src http://deb.debian.org/debian ${codename} main"
			echo "deb-src http://deb.debian.org/debian ${codename}-updates main"
			echo "deb-src http://deb.debian.org/debian-security ${codename}-security main"
			echo "deb-src http://deb.debian.org/debian ${codename}-backports main"
		} >"$apt/etc/sources.list"
		apt-get -qq "${apt_opts[@]}" update >&2
		touch "$apt/updated"
	fi
	local name=${1%%=*}
	mkdir -p "$work/src/$name"
	if [ -z "$(find "$work/src/$name" -mindepth 1 -maxdepth 1 -type d)" ]; then
		echo "build-android-libs: fetching Debian source package $1" >&2
		if ! (cd "$work/src/$name" && apt-get -qq "${apt_opts[@]}" source "$1" >&2); then
			# Unpinned: a mirror may lack the newest upload (e.g. a security
			# update); try the other versions the archive lists, newest first.
			[ "$name" = "$1" ] || return 1
			local v
			for v in $(apt-cache "${apt_opts[@]}" showsrc "$name" | sed -n 's/^Version: //p' | sort -rV | uniq); do
				rm -rf "${work:?}/src/$name" && mkdir -p "$work/src/$name"
				echo "build-android-libs: trying $name=$v" >&2
				(cd "$work/src/$name" && apt-get -qq "${apt_opts[@]}" source "$name=$v" >&2) && break
			done
		fi
	fi
	local dir
	dir=$(find "$work/src/$name" -mindepth 1 -maxdepth 1 -type d | head -n1)
	[ -n "$dir" ] || { echo "build-android-libs: could not fetch the source package $1" >&2; return 1; }
	echo "$dir"
}

build_abi() {
	local abi=$1 triple prefix
	triple=$(triple_of "$abi") || { echo "build-android-libs: unknown ABI $abi (arm64-v8a, armeabi-v7a, x86_64)" >&2; exit 2; }
	prefix="$outdir/$abi"
	local stamp="tor ${tor_version} api ${api} ${tor_flags[*]}"
	if [ -f "$prefix/BUILT" ] && [ "$(cat "$prefix/BUILT")" = "$stamp" ]; then
		echo "build-android-libs: $abi up to date"
		return
	fi
	local libz
	libz="$(libdir_of "$abi")/libz.a"
	[ -f "$libz" ] || { echo "build-android-libs: the NDK has no $libz" >&2; exit 1; }

	local stage="$prefix.new" build="$work/build-$abi"
	rm -rf "$stage" "$build"
	mkdir -p "$stage/lib/pkgconfig" "$stage/include" "$build"
	export PATH="$toolbin:$PATH"
	export CC="$toolbin/${triple}${api}-clang" AR="$toolbin/llvm-ar" RANLIB="$toolbin/llvm-ranlib"
	export CFLAGS="-O2 -fPIC" ANDROID_NDK_ROOT="$ANDROID_NDK_HOME"
	local host=$triple
	[ "$abi" = armeabi-v7a ] && host=arm-linux-androideabi

	echo "build-android-libs: $abi: OpenSSL"
	local dir
	dir=$(fetch openssl)
	cp -a "$dir" "$build/openssl"
	(cd "$build/openssl" &&
		./Configure "$(openssl_target_of "$abi")" "-D__ANDROID_API__=$api" no-shared no-tests \
			--prefix="$stage" --libdir=lib >"$build/openssl.log" 2>&1 &&
		make -j"$jobs" build_libs >>"$build/openssl.log" 2>&1 &&
		make install_dev >>"$build/openssl.log" 2>&1) || { tail -n 30 "$build/openssl.log" >&2; exit 1; }

	echo "build-android-libs: $abi: libevent"
	dir=$(fetch libevent)
	cp -a "$dir" "$build/libevent"
	# Debian's patches touch the automake sources: regenerate, as
	# Debian's own build does (dh_autoreconf).
	(cd "$build/libevent" &&
		autoreconf -fi >"$build/libevent.log" 2>&1 &&
		./configure --host="$host" --prefix="$stage" --disable-shared --enable-static --with-pic \
			--disable-openssl --disable-samples --disable-libevent-regress --disable-debug-mode \
			>>"$build/libevent.log" 2>&1 &&
		make -j"$jobs" >>"$build/libevent.log" 2>&1 && make install >>"$build/libevent.log" 2>&1) ||
		{ tail -n 30 "$build/libevent.log" >&2; exit 1; }

	echo "build-android-libs: $abi: Tor $tor_version"
	dir=$(fetch "tor=$tor_version")
	cp -a "$dir" "$build/tor"
	(cd "$build/tor" &&
		./configure --host="$host" "${tor_flags[@]}" --enable-pic \
			--with-libevent-dir="$stage" --with-openssl-dir="$stage" \
			>"$build/tor.log" 2>&1 &&
		make -j"$jobs" libtor.a >>"$build/tor.log" 2>&1) || { tail -n 30 "$build/tor.log" >&2; exit 1; }
	cp "$build/tor/libtor.a" "$stage/lib/"
	cp "$build/tor/src/feature/api/tor_api.h" "$stage/include/"

	echo "build-android-libs: $abi: libopus, libspeexdsp"
	local pkg
	for pkg in opus speexdsp; do
		dir=$(fetch "$pkg")
		cp -a "$dir" "$build/$pkg"
		(cd "$build/$pkg" &&
			autoreconf -fi >"$build/$pkg.log" 2>&1 &&
			./configure --host="$host" --prefix="$stage" --disable-shared --enable-static --with-pic \
				--disable-doc --disable-extra-programs --disable-examples >>"$build/$pkg.log" 2>&1 &&
			make -j"$jobs" >>"$build/$pkg.log" 2>&1 && make install >>"$build/$pkg.log" 2>&1) ||
			{ tail -n 30 "$build/$pkg.log" >&2; exit 1; }
	done

	# tor/libtor links -lz statically and -lpthread: bionic has pthreads in
	# libc, so an empty libpthread.a satisfies the flag if the NDK lacks one.
	cp "$libz" "$stage/lib/"
	if [ ! -e "$(libdir_of "$abi")/libpthread.a" ] && [ ! -e "$(libdir_of "$abi")/$api/libpthread.so" ]; then
		"$AR" rcs "$stage/lib/libpthread.a"
	fi
	# Everything was installed into the staging directory: point the
	# pkg-config and libtool files at the final one.
	sed -i "s|$stage|$prefix|g" "$stage"/lib/pkgconfig/*.pc "$stage"/lib/*.la
	printf '%s\n' "$stamp" >"$stage/BUILT"
	rm -rf "$prefix"
	mv "$stage" "$prefix"
	rm -rf "$build"
	echo "build-android-libs: $abi installed into $prefix"
}

for abi in "${abis[@]}"; do
	build_abi "$abi"
done
rm -rf "$work"
