#!/usr/bin/env bash
# build-libtor.sh VERSION OUTDIR
#
# Builds Tor's static library (libtor.a) from Debian's own tor source package
# at exactly VERSION and installs it into OUTDIR:
#
#   OUTDIR/lib/libtor.a
#   OUTDIR/include/tor_api.h
#   OUTDIR/BUILT              stamp: version + configure flags
#
# Idempotent: if the stamp matches, nothing is done. The source package is
# fetched with apt-get using a private apt state (own sources.list with
# deb-src lines, own lists and cache directories); the system's apt
# configuration is never modified. Needs dpkg-dev, libevent-dev, libssl-dev,
# zlib1g-dev and a C toolchain (make apt-deps installs them).
set -euo pipefail

if [ $# -ne 2 ] || [ -z "$1" ] || [ -z "$2" ]; then
	echo "usage: $0 VERSION OUTDIR" >&2
	exit 2
fi
version=$1
outdir=$2
jobs=${LIBTOR_JOBS:-2}

# Everything Tor does not need in a client library is left out: relay and
# directory authority modules, optional compressors, sandbox, docs.
configure_flags=(
	--disable-asciidoc --disable-manpage --disable-html-manual
	--disable-unittests --disable-module-relay --disable-module-dirauth
	--disable-lzma --disable-zstd --disable-seccomp --disable-libscrypt
	--disable-systemd --disable-tool-name-check
)
stamp_want="tor ${version} ${configure_flags[*]}"

if [ -f "$outdir/BUILT" ] && [ "$(cat "$outdir/BUILT")" = "$stamp_want" ] &&
	[ -f "$outdir/lib/libtor.a" ] && [ -f "$outdir/include/tor_api.h" ]; then
	echo "libtor: $version up to date in $outdir"
	exit 0
fi

for tool in apt-get dpkg-source make cc; do
	command -v "$tool" >/dev/null || { echo "libtor: $tool not found (run make apt-deps)" >&2; exit 1; }
done

work="${outdir}.work"
rm -rf "$work"
mkdir -p "$work/apt/etc/parts" "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/src"

# Debian release of this machine (bookworm, trixie, ...).
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || { echo "libtor: cannot tell the Debian release from /etc/os-release" >&2; exit 1; }
cat >"$work/apt/etc/sources.list" <<SOURCES
deb-src http://deb.debian.org/debian ${codename} main
deb-src http://deb.debian.org/debian ${codename}-updates main
deb-src http://deb.debian.org/debian-security ${codename}-security main
deb-src http://deb.debian.org/debian ${codename}-backports main
SOURCES
apt_opts=(
	-o "Dir::Etc::SourceList=$work/apt/etc/sources.list"
	-o "Dir::Etc::SourceParts=$work/apt/etc/parts"
	-o "Dir::State::Lists=$work/apt/lists"
	-o "Dir::Cache=$work/apt/cache"
	-o "Dir::Cache::pkgcache="
	-o "Dir::Cache::srcpkgcache="
	-o "APT::Sandbox::User=root"
)

echo "libtor: fetching Debian source package tor=$version"
apt-get -qq "${apt_opts[@]}" update
(cd "$work/src" && apt-get -qq "${apt_opts[@]}" source "tor=$version")

srcdir=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'tor-*' | head -n1)
[ -n "$srcdir" ] && [ -f "$srcdir/configure" ] || { echo "libtor: unpacked source not found in $work/src" >&2; exit 1; }

echo "libtor: configuring $(basename "$srcdir")"
(cd "$srcdir" && ./configure -q "${configure_flags[@]}" >"$work/configure.log" 2>&1) ||
	{ tail -n 30 "$work/configure.log" >&2; exit 1; }

echo "libtor: building libtor.a (make -j$jobs)"
(cd "$srcdir" && make -j"$jobs" libtor.a >"$work/make.log" 2>&1) ||
	{ tail -n 30 "$work/make.log" >&2; exit 1; }

# Install into a fresh directory next to OUTDIR, then swap it in so an
# interrupted build never leaves a half-written OUTDIR behind.
stage="${outdir}.new"
rm -rf "$stage"
mkdir -p "$stage/lib" "$stage/include"
cp "$srcdir/libtor.a" "$stage/lib/libtor.a"
cp "$srcdir/src/feature/api/tor_api.h" "$stage/include/tor_api.h"
cp "$srcdir/LICENSE" "$stage/LICENSE.tor"
printf '%s\n' "$stamp_want" >"$stage/BUILT"
rm -rf "$outdir"
mv "$stage" "$outdir"
rm -rf "$work"
echo "libtor: installed $version into $outdir"
