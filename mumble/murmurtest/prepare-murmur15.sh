#!/usr/bin/env bash
# prepare-murmur15.sh PREFIX
#
# Unpacks the Mumble 1.5 server from Debian trixie's packages into PREFIX so
# that tests (package murmurtest) can run it on a Debian bookworm host, where
# it is not installable. Nothing is installed system-wide: apt runs with a
# private state (own sources list for trixie main, own lists, cache and an
# empty dpkg status), so the system's apt sources and package database are
# never touched. Each .deb is unpacked with dpkg -x into PREFIX, which then
# holds its own glibc, Qt 5 and OpenSSL; PREFIX/bin/mumble-server-1.5 runs the
# server with that loader, library path and Qt plugin path.
#
# Idempotent: if PREFIX holds a stamp for the same package list and the server
# answers -version, the script exits at once. The work is done in a sibling
# directory and renamed into place, so an interrupted run leaves no half-built
# PREFIX behind.
#
# The Debian mirror is the one the system's apt sources use for Debian
# (override with TUMBLE_DEBIAN_MIRROR=http://host/debian).
set -euo pipefail

prog=prepare-murmur15
die() { echo "$prog: $*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: $0 PREFIX"
prefix=$1
case $prefix in /*) ;; *) prefix=$PWD/$prefix ;; esac
prefix=${prefix%/}
case $prefix in "" | / | "$HOME" | /usr | /usr/* | /etc | /etc/*) die "refusing to use $1 as PREFIX" ;; esac
if [ -d "$prefix" ] && [ ! -f "$prefix/.stamp" ] && [ -n "$(ls -A "$prefix")" ]; then
	die "$prefix exists, is not empty and was not made by this script; remove it first"
fi

suite=trixie
arch=$(dpkg --print-architecture 2>/dev/null) || die "dpkg not found"
case $arch in
amd64) triplet=x86_64-linux-gnu loader=ld-linux-x86-64.so.2 ;;
arm64) triplet=aarch64-linux-gnu loader=ld-linux-aarch64.so.1 ;;
*) die "unsupported architecture $arch" ;;
esac

# Packages that make the trixie server run on bookworm (measured; see
# /work/shared/notes/mumble-wire.md). Changing this list invalidates the stamp.
packages=(
	mumble-server
	libprotobuf32t64
	libqt5core5t64 libqt5dbus5t64 libqt5network5t64 libqt5sql5t64
	libqt5xml5t64 libqt5sql5-sqlite
	libzeroc-ice3.7t64
	libstdc++6 libgcc-s1 libc6
	libssl3t64
	libavahi-compat-libdnssd1
	libcap2
	libicu76
)
stamp_head="murmur-1.5 $suite $arch: ${packages[*]}"

# check_server DIR: the unpacked server in DIR prints its version.
check_server() {
	local out
	out=$("$1/bin/mumble-server-1.5" -version 2>&1) || { echo "$out" >&2; return 1; }
	local v
	v=$(grep -Eo '(^|[^0-9.])1\.5\.[0-9]+' <<<"$out" | grep -Eo '1\.5\.[0-9]+' | head -n1)
	[ -n "$v" ] || { echo "$out" >&2; return 1; }
	echo "$v"
}

# One run at a time per PREFIX (make deps may run in parallel).
mkdir -p "$(dirname "$prefix")"
if command -v flock >/dev/null; then
	exec 9>"$prefix.lock"
	flock 9
fi

if [ -f "$prefix/.stamp" ] && [ "$(head -n1 "$prefix/.stamp")" = "$stamp_head" ]; then
	if v=$(check_server "$prefix" 2>/dev/null); then
		echo "$prog: Mumble server $v present in $prefix"
		exit 0
	fi
	echo "$prog: $prefix is stale or broken, rebuilding" >&2
fi

# debian_mirror prints the base URI the system's apt sources use for Debian
# (the entry whose suite is the system's release, not its security suite).
debian_mirror() {
	if [ -n "${TUMBLE_DEBIAN_MIRROR:-}" ]; then
		echo "${TUMBLE_DEBIAN_MIRROR%/}"
		return
	fi
	local codename
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || codename=bookworm
	local f
	# deb822 .sources files: stanzas of "Key: value" lines.
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v want="$codename" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " want " ") && uris != "") {
					split(uris, u, " "); print u[1]; found = 1; exit
				}
				types = ""; uris = ""; suites = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^#/ { next }
			tolower($1) == "types:" { $1 = ""; types = $0; sub(/^ +/, "", types) }
			tolower($1) == "uris:" { $1 = ""; uris = $0; sub(/^ +/, "", uris) }
			tolower($1) == "suites:" { $1 = ""; suites = $0; sub(/^ +/, "", suites) }
			END { if (!found) flush() }
		' "$f"
	done | head -n1 | grep . && return
	# One-line format: deb [options] URI SUITE COMPONENTS...
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v want="$codename" '
			$1 != "deb" { next }
			{ i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } }
			$(i + 1) == want { print $i; exit }
		' "$f"
	done | head -n1 | grep . && return
	return 1
}

mirror=$(debian_mirror) || die "no Debian mirror found in /etc/apt sources (set TUMBLE_DEBIAN_MIRROR)"
mirror=${mirror%/}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || die "$keyring missing (install debian-archive-keyring)"
for tool in apt-get dpkg-deb; do
	command -v "$tool" >/dev/null || die "$tool not found"
done

start=$(date +%s)
parent=$(dirname "$prefix")
work=$(mktemp -d "$parent/.murmur-1.5.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/prefix
apt=$work/apt
mkdir -p "$stage" "$apt"/{lists/partial,cache/archives/partial,etc/sources.list.d,etc/preferences.d,etc/apt.conf.d,debs}
: >"$apt/status"
echo "deb [signed-by=$keyring] $mirror $suite main" >"$apt/etc/sources.list"

# Every path apt would read or write is redirected into $apt.
aptopts=(
	-o "Dir::Etc=$apt/etc"
	-o "Dir::Etc::SourceList=$apt/etc/sources.list"
	-o "Dir::Etc::SourceParts=$apt/etc/sources.list.d"
	-o "Dir::Etc::Preferences=$apt/etc/preferences"
	-o "Dir::Etc::PreferencesParts=$apt/etc/preferences.d"
	-o "Dir::Etc::Parts=$apt/etc/apt.conf.d"
	-o "Dir::State=$apt"
	-o "Dir::State::Lists=$apt/lists"
	-o "Dir::State::status=$apt/status"
	-o "Dir::Cache=$apt/cache"
	-o "Dir::Cache::archives=$apt/cache/archives"
	-o "Dir::Cache::pkgcache=$apt/cache/pkgcache.bin"
	-o "Dir::Cache::srcpkgcache=$apt/cache/srcpkgcache.bin"
	-o "APT::Architecture=$arch"
	-o "APT::Architectures::=$arch"
	-o "Acquire::Languages=none"
	-o "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false"
)
# apt drops to the _apt user for downloads; it cannot write into a private
# directory owned by root, so stay root when running as root.
if [ "$(id -u)" = 0 ]; then
	aptopts+=(-o "APT::Sandbox::User=root")
fi

echo "$prog: fetching $suite package lists from $mirror"
apt-get "${aptopts[@]}" -qq update >"$work/update.log" 2>&1 || {
	cat "$work/update.log" >&2
	die "apt-get update for $suite failed"
}

echo "$prog: downloading ${#packages[@]} packages"
(cd "$apt/debs" && apt-get "${aptopts[@]}" -qq download "${packages[@]}") >"$work/download.log" 2>&1 || {
	cat "$work/download.log" >&2
	die "apt-get download failed"
}

: >"$work/versions"
for deb in "$apt"/debs/*.deb; do
	dpkg-deb -x "$deb" "$stage"
	dpkg-deb -f "$deb" Package Version | paste -sd' ' - | sed 's/^Package: \(.*\) Version: /\1=/' >>"$work/versions"
done
[ "$(wc -l <"$work/versions")" -eq "${#packages[@]}" ] || {
	cat "$work/versions" >&2
	die "expected ${#packages[@]} packages, got $(wc -l <"$work/versions")"
}

libdir=usr/lib/$triplet
[ -x "$stage/usr/bin/mumble-server" ] || die "mumble-server binary missing after unpacking"
[ -e "$stage/$libdir/$loader" ] || die "$loader missing after unpacking"
# Qt loads the unversioned OpenSSL names at run time; without them it crashes.
ln -sfn libssl.so.3 "$stage/$libdir/libssl.so"
ln -sfn libcrypto.so.3 "$stage/$libdir/libcrypto.so"

mkdir -p "$stage/bin"
cat >"$stage/bin/mumble-server-1.5" <<EOF
#!/bin/sh
# Runs the Mumble 1.5 server unpacked from Debian $suite packages with its own
# loader and libraries (generated by prepare-murmur15.sh). Arguments go to the
# server, e.g. -ini FILE -fg.
here=\$(CDPATH= cd -- "\$(dirname -- "\$0")/.." && pwd) || exit 1
lib=\$here/$libdir
QT_PLUGIN_PATH=\$lib/qt5/plugins
export QT_PLUGIN_PATH
exec "\$lib/$loader" --library-path "\$lib:/$libdir" "\$here/usr/bin/mumble-server" "\$@"
EOF
chmod 755 "$stage/bin/mumble-server-1.5"

v=$(check_server "$stage") || die "unpacked server does not run"

# A real start: listen on a free loopback port with a throwaway ini, wait until
# the server says it listens and accepts a connection, stop it.
runtmp=$work/run
mkdir -p "$runtmp"
# A random port in 20000-59999 that nothing listens on.
for _ in $(seq 1 20); do
	port=$((20000 + RANDOM % 40000))
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done
{
	echo "database=$runtmp/murmur.sqlite"
	echo "logfile=$runtmp/murmur.log"
	echo "pidfile=$runtmp/murmur.pid"
	echo "host=127.0.0.1"
	echo "port=$port"
	echo "ice="
	echo "dbus="
	echo "autobanAttempts=0"
	echo "bonjour=false"
	echo "kdfiterations=1000"
	if [ "$(id -u)" = 0 ]; then echo "uname=root"; fi
} >"$runtmp/murmur.ini"
"$stage/bin/mumble-server-1.5" -ini "$runtmp/murmur.ini" -fg >"$runtmp/stdout" 2>&1 &
pid=$!
ok=
for _ in $(seq 1 100); do
	if grep -q "Server listening on 127.0.0.1:$port" "$runtmp/stdout" &&
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		ok=1
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
if [ -z "$ok" ]; then
	cat "$runtmp/stdout" "$runtmp/murmur.log" >&2 2>/dev/null || true
	die "server did not listen on 127.0.0.1:$port"
fi

{
	echo "$stamp_head"
	echo "mirror $mirror"
	echo "server $v"
	sort "$work/versions"
} >"$stage/.stamp"

rm -rf "$prefix"
mv "$stage" "$prefix"
echo "$prog: Mumble server $v ready in $prefix ($(($(date +%s) - start)) s)"
