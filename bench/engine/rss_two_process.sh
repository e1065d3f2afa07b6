#!/usr/bin/env bash
# Resident memory of the live engine and of `twinstar sim` as two processes (the in-process soak
# test counts the sim's memory as the engine's). Runs examples/live-sim.toml's bots against an
# external sim on 127.0.0.1:$PORT and samples VmRSS of both every 5 real seconds into rss.csv
# (unix time, engine KiB, sim KiB). From the project root:
#   SPEED=3000 DUR=20d bench/engine/rss_two_process.sh /tmp/rss
set -euo pipefail
out=${1:-/tmp/twinstar-rss}
T=${TWINSTAR:-$PWD/build/release/twinstar}
SPEED=${SPEED:-3000} DUR=${DUR:-20d} PORT=${PORT:-18080}
rm -rf "$out" && mkdir -p "$out"
sed -e "s#endpoint = \"sim\"#endpoint = \"http://127.0.0.1:$PORT\"\napi_key_env = \"SIM_KEY\"\napi_secret_env = \"SIM_SECRET\"#" \
    -e "s#^data_dir = .*#data_dir = \"$out/data\"#" examples/live-sim.toml > "$out/cfg.toml"
"$T" sim --port "$PORT" --symbols 50 --speed "$SPEED" --data-dir "$out/simdata" --log-level warn > "$out/sim.log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
sleep 2
# The sim's built-in paper account (docs/SIM.md), not a secret.
SIM_KEY=SIMKEYALICE000000001 SIM_SECRET=SIMSECRETALICE00000000000000000001 \
  "$T" run --config "$out/cfg.toml" --speed "$SPEED" --duration "$DUR" --close-on-stop --log-level warn \
  --report-every 24h > "$out/run.log" 2>&1 &
run=$!
: > "$out/rss.csv"
while kill -0 $run 2>/dev/null; do
  echo "$(date +%s),$(awk '/VmRSS/{print $2}' /proc/$run/status 2>/dev/null),$(awk '/VmRSS/{print $2}' /proc/$sim/status 2>/dev/null)" >> "$out/rss.csv"
  sleep 5
done
wait $run
echo "engine and sim RSS (MiB), every 20 s:"
awk -F, '$2 != "" && NR % 4 == 1 {printf "%d/%d ", $2/1024, $3/1024} END {print ""}' "$out/rss.csv"
grep -E '^data' "$out/run.log" | tail -1
