#!/usr/bin/env bash
# bench/guiidle.sh TUMBLE_BINARY [FLOOR_BINARY]: the GUI's cost while
# nothing happens, and (with FLOOR_BINARY, bench/guifloor: one Fyne window
# with a label) what Fyne's driver alone costs the same way. It
# starts the real binary under Xvfb (software GL), not connected, Tor off,
# null sound devices, waits GUI_IDLE_WARMUP seconds (default 10) and then
# measures its CPU time (schedstat of every thread, nanoseconds) over
# GUI_IDLE_SECONDS (default 30), and its RSS at the end:
#
#   BENCH gui_idle_pct_core=V %
#   BENCH gui_idle_rss_kb=V KB
#   BENCH gui_idle_fyne_floor_pct_core=V %
#   BENCH gui_idle_fyne_floor_rss_kb=V KB
set -euo pipefail
bin=${1:?usage: guiidle.sh TUMBLE_BINARY [FLOOR_BINARY]}
floor=${2:-}
warm=${GUI_IDLE_WARMUP:-10}
secs=${GUI_IDLE_SECONDS:-30}
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# cpu_ns PID: CPU time of every thread of PID, in nanoseconds.
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'
}

exec 3>"$tmp/display"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
pids+=($!)
exec 3>&-
for _ in $(seq 100); do
	[[ -s "$tmp/display" ]] && break
	sleep 0.1
done
display=":$(tr -d '\n' <"$tmp/display")"
# measure NAME BINARY: start BINARY on the display and print its figures.
measure() {
	local name=$1 prog=$2 home=$tmp/home-$1
	mkdir -p "$home"
	DISPLAY=$display HOME=$home XDG_CONFIG_HOME=$home/.config XDG_CACHE_HOME=$home/.cache \
		"$prog" --config-dir "$home/tumble" --tor off --audio null >"$tmp/$name.log" 2>&1 &
	local gui=$!
	pids+=($gui)
	sleep "$warm"
	kill -0 "$gui" 2>/dev/null || { cat "$tmp/$name.log" >&2; echo "guiidle: $prog exited" >&2; exit 1; }
	local a b rss
	a=$(cpu_ns "$gui")
	sleep "$secs"
	b=$(cpu_ns "$gui")
	rss=$(awk '/^VmRSS:/ { print $2 }' /proc/"$gui"/status)
	kill "$gui"
	wait "$gui" 2>/dev/null || true
	awk -v d=$((b - a)) -v s="$secs" -v n="$name" 'BEGIN { printf "BENCH %s_pct_core=%.3f %%\n", n, d / (s * 1e9) * 100 }'
	echo "BENCH ${name}_rss_kb=$rss KB"
}
measure gui_idle "$bin"
if [[ -n "$floor" ]]; then
	measure gui_idle_fyne_floor "$floor"
fi
