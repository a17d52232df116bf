#!/usr/bin/env bash
# bench/guiidle.sh TUMBLE_BINARY [FLOOR_BINARY]: the GUI's cost while
# nothing happens, and (with FLOOR_BINARY, bench/guifloor: one Fyne window
# with a label) what Fyne's driver alone costs the same way. It
# starts the real binary under Xvfb (software GL), not connected, Tor off,
# null sound devices, waits GUI_IDLE_WARMUP seconds (default 10) and then
# measures its CPU time (schedstat of every thread, nanoseconds) over
# GUI_IDLE_SECONDS (default 30), and its RSS at the end; the floor runs at
# the same time and is measured over the same window:
#
#   BENCH gui_idle_pct_core=V %
#   BENCH gui_idle_rss_kb=V KB
#   BENCH gui_idle_fyne_floor_pct_core=V %
#   BENCH gui_idle_fyne_floor_rss_kb=V KB
#   BENCH gui_idle_fyne_floor_ratio=V x
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
# start NAME BINARY: start BINARY on the display; its pid goes to pid[NAME].
declare -A pid
start() {
	local name=$1 prog=$2 home=$tmp/home-$1
	mkdir -p "$home"
	DISPLAY=$display HOME=$home XDG_CONFIG_HOME=$home/.config XDG_CACHE_HOME=$home/.cache \
		"$prog" --config-dir "$home/tumble" --tor off --audio null >"$tmp/$name.log" 2>&1 &
	pid[$name]=$!
	pids+=($!)
}
# Both run at once and are measured over the same window, so that the
# machine's load at the time weighs on both alike.
names=(gui_idle)
start gui_idle "$bin"
if [[ -n "$floor" ]]; then
	names+=(gui_idle_fyne_floor)
	start gui_idle_fyne_floor "$floor"
fi
sleep "$warm"
declare -A cpu0
for n in "${names[@]}"; do
	kill -0 "${pid[$n]}" 2>/dev/null || { cat "$tmp/$n.log" >&2; echo "guiidle: $n exited" >&2; exit 1; }
	cpu0[$n]=$(cpu_ns "${pid[$n]}")
done
sleep "$secs"
declare -A pct
for n in "${names[@]}"; do
	b=$(cpu_ns "${pid[$n]}")
	rss=$(awk '/^VmRSS:/ { print $2 }' /proc/"${pid[$n]}"/status)
	pct[$n]=$(awk -v d=$((b - cpu0[$n])) -v s="$secs" 'BEGIN { printf "%.3f", d / (s * 1e9) * 100 }')
	echo "BENCH ${n}_pct_core=${pct[$n]} %"
	echo "BENCH ${n}_rss_kb=$rss KB"
done
if [[ -n "$floor" ]]; then
	awk -v a="${pct[gui_idle]}" -v b="${pct[gui_idle_fyne_floor]}" 'BEGIN { printf "BENCH gui_idle_fyne_floor_ratio=%.2f x\n", a / b }'
fi
