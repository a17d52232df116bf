#!/usr/bin/env bash
# bench/run.sh: Tumble's speed and quality figures, one line each:
#
#   BENCH name=value unit
#
# The figures come from Go benchmarks and measuring tests over real parts
# (libopus, libspeexdsp, real Mumble servers, a private Tor network on
# loopback); targets are in the issue tracker and the README, not asserted
# here. Run from the repository root (make bench does).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
TAGS=${TAGS:-nolibopusfile}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# metric FILE BENCHMARK UNIT: the value a benchmark reported for UNIT.
metric() {
	awk -v b="$2" -v u="$3" '
		$1 ~ "^"b"(-[0-9]+)?$" { for (i = 3; i < NF; i++) if ($(i+1) == u) { print $i; exit } }' "$1"
}

# bench PACKAGE REGEXP BENCHTIME: run benchmarks into a file named after them.
bench() {
	local f="$out/$(echo "$2" | tr -c 'A-Za-z0-9' _).txt"
	$GO test -tags "$TAGS" -run '^$' -bench "$2" -benchtime "$3" -count 1 "$1" >"$f" 2>&1 || {
		cat "$f" >&2
		echo "bench: $1 $2 failed" >&2
		exit 1
	}
	echo "$f"
}

emit() { printf 'BENCH %s=%s %s\n' "$1" "$2" "$3"; }

# Send path: AEC + preprocessor + VAD + Opus per 20 ms packet, against the
# bare libopus and speexdsp floors measured in the same run (interleaved, so
# machine noise hits both).
f=$(bench ./voice/ '^(BenchmarkSendPath|BenchmarkOpusFloor|BenchmarkSpeexFloor|BenchmarkSendPathRatio)$' 1000x)
emit send_path_us_per_frame "$(metric "$f" BenchmarkSendPath send_path_us/frame)" us
emit opus_floor_us_per_frame "$(metric "$f" BenchmarkOpusFloor opus_floor_us/frame)" us
emit speex_floor_us_per_frame "$(metric "$f" BenchmarkSpeexFloor speex_floor_us/frame)" us
emit send_path_ratio "$(metric "$f" BenchmarkSendPathRatio send_path_ratio)" x

# Echo cancellation and noise suppression on synthetic signals.
$GO test -tags "$TAGS" -count 1 -v -run '^(TestEchoCancellation|TestNoiseSuppression)$' ./voice/dsp/ >"$out/dsp.txt" 2>&1 || {
	cat "$out/dsp.txt" >&2
	exit 1
}
for name in aec_erle_db ns_reduction_db; do
	v=$(grep -o "BENCH $name=[-0-9.]*" "$out/dsp.txt" | head -1 | cut -d= -f2)
	emit "$name" "$v" dB
done

# Receive path: 50 speakers decoded, jitter-buffered and mixed.
f=$(bench ./voice/ '^BenchmarkReceiveMix50Speakers$' 200x)
emit receive_mix_50_speakers_pct_core "$(metric "$f" BenchmarkReceiveMix50Speakers receive_mix_50_speakers_pct_core)" '%'

# A connected, silent call in the app without sound devices (NoDevices,
# or none that open): its playback clock pauses while nothing plays.
f=$(bench ./voice/ '^BenchmarkCallIdle$' 2x)
emit call_nodevices_idle_pct_core "$(metric "$f" BenchmarkCallIdle call_nodevices_idle_pct_core)" '%'

# Jitter buffer on the bursty Tor trace (30 min of conversation).
f=$(bench ./voice/jitter/ '^BenchmarkTorTrace$' 1x)
emit tor_trace_late_loss_pct "$(metric "$f" BenchmarkTorTrace tor_trace_late_loss_pct)" '%'
emit tor_trace_added_delay_ms "$(metric "$f" BenchmarkTorTrace tor_trace_added_delay_ms)" ms
f=$(bench ./voice/jitter/ '^BenchmarkTorTracePerPacket$' 1x)
emit tor_trace_per_packet_late_loss_pct "$(metric "$f" BenchmarkTorTracePerPacket tor_trace_per_packet_late_loss_pct)" '%'

# Traces recorded over the emulated Tor network (tor/tornet profiles fast,
# typical, bad; voice/jitter/testdata/tor_*.trace: a conversation, and
# PROFILE_continuous, talk without a pause), replayed through Tumble's
# buffer, Mumble 1.5's speex buffer at the same jitter setting and Mumla's
# fixed 100 ms buffer.
f=$(bench ./voice/jitter/ '^BenchmarkRecordedTraces$' 1x)
for p in fast fast_continuous typical typical_continuous bad bad_continuous; do
	# Median one-way transit of the recorded voice packets (the
	# recording's network; the side-by-side below measures its own).
	emit "trace_${p}_net_ms" "$(metric "$f" BenchmarkRecordedTraces "tornet_${p}_net_ms")" ms
	for impl in tumble mumble_speex mumla_fixed; do
		for m in late_loss_pct added_delay_ms; do
			unit=ms
			[[ $m == *pct ]] && unit='%'
			emit "trace_${p}_${impl}_${m}" "$(metric "$f" BenchmarkRecordedTraces "trace_${p}_${impl}_${m}")" "$unit"
		done
	done
done

# End to end through a real Mumble server on loopback: two tumble-cli
# processes, a click train, capture-to-playout latency at 20 ms packets.
f=$(bench ./cmd/tumble-cli/ '^BenchmarkLoopbackLatency$' 1x)
emit loopback_latency_ms "$(metric "$f" BenchmarkLoopbackLatency latency_ms)" ms
emit loopback_late_loss_pct "$(metric "$f" BenchmarkLoopbackLatency late_loss_pct)" '%'

# Wire code hot path: voice packet encode and decode in both formats.
f=$(bench ./mumble/ '^BenchmarkVoice(Legacy|Protobuf)$' 1s)
for b in Legacy Protobuf; do
	for op in encode decode; do
		name=$(echo "voice_${b}_${op}" | tr 'A-Z' 'a-z')
		emit "${name}_ns" "$(metric "$f" "BenchmarkVoice$b/$op" ns/op)" ns/op
		emit "${name}_allocs" "$(metric "$f" "BenchmarkVoice$b/$op" allocs/op)" allocs/op
	done
done

# Applying a replayed sync of 1000 users and 300 channels.
f=$(bench ./mumble/ '^BenchmarkApplySync$' 20x)
emit apply_sync_1000_users_300_channels_ms "$(awk -v v="$(metric "$f" BenchmarkApplySync ns/op)" 'BEGIN{printf "%.2f", v/1e6}')" ms
emit apply_sync_1000_users_300_channels_allocs "$(metric "$f" BenchmarkApplySync allocs/op)" allocs/op

# The app's state: a talk flip with 1000 users in 300 channels changes one
# user's flag (the whole-tree rebuild it replaced is measured beside it),
# and a reader of the state does not wait for the settings file while the
# volume slider saves (one save's time beside it: what readers waited
# before).
f=$(bench ./app/ '^(BenchmarkTalkFlip|BenchmarkTreeRebuild)$' 20000x)
emit talk_flip_update_us "$(awk -v v="$(metric "$f" BenchmarkTalkFlip ns/op)" 'BEGIN{printf "%.3f", v/1e3}')" us
emit talk_flip_update_allocs "$(metric "$f" BenchmarkTalkFlip allocs/op)" allocs/op
emit tree_rebuild_1000_users_300_channels_us "$(awk -v v="$(metric "$f" BenchmarkTreeRebuild ns/op)" 'BEGIN{printf "%.1f", v/1e3}')" us
f=$(bench ./app/ '^BenchmarkSetUserVolumeUIBlock$' 20000x)
emit set_user_volume_ui_block_us "$(metric "$f" BenchmarkSetUserVolumeUIBlock ui_block_us)" us
emit set_user_volume_ui_block_p99_us "$(metric "$f" BenchmarkSetUserVolumeUIBlock ui_block_p99_us)" us
emit settings_save_us "$(metric "$f" BenchmarkSetUserVolumeUIBlock settings_save_us)" us

# Process start to "connected" over the private Tor network, embedded Tor
# (bootstrap included) against an existing Tor's SOCKS port. Needs the
# embedded Tor (TAGS with libtor, as make bench sets).
if [[ ",$TAGS," == *,libtor,* ]]; then
	f=$(bench ./cmd/tumble-cli/ '^BenchmarkTorConnect$' 3x)
	emit tor_start_to_connected_embedded_ms "$(metric "$f" BenchmarkTorConnect/embedded start_to_connected_ms)" ms
	emit tor_start_to_connected_socks_ms "$(metric "$f" BenchmarkTorConnect/socks start_to_connected_ms)" ms

	# Embedded Tor bootstrap, directly and through the private network's
	# obfs4 bridge (the client knows only the bridge line), same run.
	f=$(bench ./cmd/tumble-cli/ '^BenchmarkTorBootstrap$' 3x)
	emit tor_bootstrap_direct_ms "$(metric "$f" BenchmarkTorBootstrap tor_bootstrap_direct_ms)" ms
	emit tor_bootstrap_obfs4_ms "$(metric "$f" BenchmarkTorBootstrap tor_bootstrap_obfs4_ms)" ms
	# Tor cells per second and direction one speaker causes at each
	# preset (CELL_STATS events of the private network), next to the
	# Opus bytes per second.
	f=$(bench ./cmd/tumble-cli/ '^BenchmarkTorCells$' 1x)
	# down is the listener's circuit; to_speaker what the onion service
	# sent back on the speaker's own (ping replies, flow-control SENDMEs).
	for p in tor_recommended low_bandwidth; do
		emit "tor_cells_per_s_${p}_up" "$(metric "$f" "BenchmarkTorCells/$p" cells_up_per_s)" cells/s
		emit "tor_cells_per_s_${p}_down" "$(metric "$f" "BenchmarkTorCells/$p" cells_down_per_s)" cells/s
		emit "tor_cells_per_s_${p}_to_speaker" "$(metric "$f" "BenchmarkTorCells/$p" cells_to_speaker_per_s)" cells/s
		emit "tor_opus_bytes_per_s_${p}" "$(metric "$f" "BenchmarkTorCells/$p" opus_bytes_per_s)" B/s
	done

	# Mouth to ear over the emulated network, Tumble -> onion Mumble 1.5
	# server -> Tumble against the official Mumble 1.3.4 client -> the same
	# server -> the official client (headless under Xvfb, torsocks), one
	# network per profile (TUMBLE_TORNET_PROFILES). Both pairs capture and
	# play through the same private PulseAudio server (Tumble through the
	# app's device code), 3 click trains each: median over the trains and
	# their spread. net is each pair's own voice packets' median transit in
	# the same run (send and arrival on one clock, at the SOCKS port); the
	# ratio is client-added delay against client-added delay.
	profiles=${TUMBLE_TORNET_PROFILES:-typical,fast,bad}
	f=$(TUMBLE_TORNET_PROFILES=$profiles bench ./cmd/tumble-cli/ '^BenchmarkTornetSideBySide$' 1x)
	for p in ${profiles//,/ }; do
		for side in tumble mumble; do
			for m in m2e m2e_min m2e_max net added device; do
				emit "tornet_${p}_${side}_${m}_ms" "$(metric "$f" "BenchmarkTornetSideBySide/$p" "${side}_${m}_ms")" ms
			done
			emit "tornet_${p}_${side}_lost_clicks_pct" "$(metric "$f" "BenchmarkTornetSideBySide/$p" "${side}_lost_clicks_pct")" '%'
		done
		emit "tornet_${p}_m2e_ratio" "$(metric "$f" "BenchmarkTornetSideBySide/$p" m2e_ratio)" x
		emit "tornet_${p}_tumble_late_loss_pct" "$(metric "$f" "BenchmarkTornetSideBySide/$p" tumble_late_loss_pct)" '%'
		emit "tornet_${p}_tumble_speech_loss_pct" "$(metric "$f" "BenchmarkTornetSideBySide/$p" tumble_speech_loss_pct)" '%'
	done
fi

# The cost of a call (bench/soak): two tumble-cli through a real Mumble 1.3
# server, Tor off, 13 kb/s, 20 ms packets, file devices; CPU against the
# Opus floors of the same run, RSS slope after the first minute and over
# the second half, idle connected, and late loss of a tone under two busy
# loops per core. SOAK_DURATION sets the call's length (default 10m, as
# issue #18 asks; 1h for a long soak), SOAK_PPROF_DIR keeps each process's
# pprof profiles.
cli=${TUMBLE_CLI:-}
if [[ -z "$cli" ]]; then
	cli="$out/tumble-cli"
	$GO build -tags "$TAGS" -o "$cli" ./cmd/tumble-cli
fi
$GO build -tags "$TAGS" -o "$out/soak" ./bench/soak
soak_args=(-cli "$cli" -duration "${SOAK_DURATION:-10m}")
if [[ -n "${SOAK_PPROF_DIR:-}" ]]; then
	soak_args+=(-pprof-dir "$SOAK_PPROF_DIR")
fi
"$out/soak" "${soak_args[@]}"

# The GUI while nothing happens (not connected, Tor off, null devices)
# under Xvfb, next to a bare Fyne window (Fyne's driver polls at 60 Hz).
if command -v Xvfb >/dev/null; then
	$GO build -tags "$TAGS" -o "$out/tumble" ./cmd/tumble
	$GO build -tags "$TAGS" -o "$out/guifloor" ./bench/guifloor
	bench/guiidle.sh "$out/tumble" "$out/guifloor"
fi

# Encrypted rooms: seal + open of a 33-byte Opus packet, the bytes a packet
# an hour into a call gains, and the time from a member leaving until the
# others hold each other's new keys (3 members, loopback; 1.3.4 carries
# keys in rate-limited text messages).
f=$(bench ./mumble/e2e/ '^BenchmarkSealOpen$' 200000x)
emit e2e_seal_open_ns_per_packet "$(metric "$f" BenchmarkSealOpen ns/op)" ns
emit e2e_bytes_per_packet "$(metric "$f" BenchmarkSealOpen bytes/packet)" bytes
f=$(bench ./mumble/e2e/ '^BenchmarkRekeyAfterLeave$' 3x)
emit e2e_rekey_ms "$(metric "$f" BenchmarkRekeyAfterLeave/1.5 rekey_ms)" ms
emit e2e_rekey_ms_murmur13 "$(metric "$f" BenchmarkRekeyAfterLeave/1.3 rekey_ms)" ms
# A member joining until every member sends voice with a key all others
# acknowledged (so none of it is undecryptable).
emit e2e_join_ms "$(metric "$f" BenchmarkRekeyAfterLeave/1.5 join_ms)" ms
emit e2e_join_ms_murmur13 "$(metric "$f" BenchmarkRekeyAfterLeave/1.3 join_ms)" ms

# Hosting a room (issue #13): click (room start, Tor up) to a guest
# connected through the onion, split into murmurd start, onion publication
# and descriptor reachable; and the idle memory of Tumble + murmurd.
if [[ ",$TAGS," == *,libtor,* ]]; then
	f=$(bench ./cmd/tumble-cli/ '^BenchmarkHost$' 3x)
	emit host_click_to_onion_reachable_ms "$(metric "$f" BenchmarkHost click_to_reachable_ms)" ms
	emit host_murmurd_start_ms "$(metric "$f" BenchmarkHost murmurd_start_ms)" ms
	emit host_onion_publish_ms "$(metric "$f" BenchmarkHost onion_publish_ms)" ms
	emit host_descriptor_reachable_ms "$(metric "$f" BenchmarkHost descriptor_reachable_ms)" ms
	emit host_idle_rss_mb "$(metric "$f" BenchmarkHost idle_rss_mb)" MB
fi
