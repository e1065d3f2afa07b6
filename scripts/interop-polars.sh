#!/usr/bin/env bash
# Proves that users' own tools read the candle store as-is: imports real candles from
# ../shared/data with twinstar, reads the hive layout with polars (the Rust engine, through its
# Node.js binding from the npm registry, pinned) and compares every value and open time with
# `twinstar data export`. Not part of `make test` (the polars binary is ~115 MB); run it with
# `make interop` after changing the Parquet layout. Exit 0: identical; 1: a difference.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.26.1
twinstar=${TWINSTAR:-build/release/twinstar}
data=${TWINSTAR_SHARED_DATA:-../shared/data}
dest=.deps/interop
[[ -x $twinstar ]] || { echo "interop: $twinstar not built (run make build first)" >&2; exit 2; }
for f in binance-spot-1h/BTCUSDT_1h.csv bybit-linear/ADAUSDT_15m.csv; do
  [[ -f $data/$f ]] || { echo "interop: SKIPPED — $data/$f is absent" >&2; exit 0; }
done

if [[ ! -f $dest/.stamp-$version ]]; then
  echo "interop: installing nodejs-polars $version from the npm registry into $dest"
  rm -rf "$dest" && mkdir -p "$dest"
  (cd "$dest" && npm install --silent --no-audit --no-fund --no-save \
     "nodejs-polars@$version" "nodejs-polars-linux-$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')-gnu@$version" >/dev/null)
  touch "$dest/.stamp-$version"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$twinstar" data import-csv --data-dir "$tmp/data" "$data/binance-spot-1h/BTCUSDT_1h.csv" --exchange binance --market spot >/dev/null
"$twinstar" data import-csv --data-dir "$tmp/data" "$data/bybit-linear/ADAUSDT_15m.csv" --exchange bybit >/dev/null
"$twinstar" data export --data-dir "$tmp/data" --exchange binance --market spot --symbol BTCUSDT --interval 1h --csv --out "$tmp/binance.csv" >/dev/null
"$twinstar" data export --data-dir "$tmp/data" --exchange bybit --market linear --symbol ADAUSDT --interval 15m --csv --out "$tmp/bybit.csv" >/dev/null

NODE_PATH="$PWD/$dest/node_modules" node - "$tmp" <<'EOF'
const pl = require('nodejs-polars');
const fs = require('fs');
const tmp = process.argv[2];
// The way a user would read it: a glob over the hive folders, partitions as columns.
const all = pl.scanParquet(tmp + '/data/candles/**/*.parquet', {hivePartitioning: true}).collectSync();
const want = {open_time: 'Datetime(us,UTC)', open: 'Decimal(18,8)', high: 'Decimal(18,8)', low: 'Decimal(18,8)',
              close: 'Decimal(18,8)', volume: 'Decimal(38,8)', turnover: 'Decimal(38,8)', exchange: 'String',
              market: 'String', symbol: 'String', interval: 'String'};
let bad = 0;
for (const [col, type] of Object.entries(want)) {
  const got = String(all.schema[col]).replace(/^DataType\(|\)$/g, '');
  if (got !== type) { console.error(`interop: column ${col} is ${got}, expected ${type}`); ++bad; }
}
// "57953.86000000" and "57953.86" are the same decimal.
const norm = s => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
for (const [file, ex, sym] of [['binance.csv', 'binance', 'BTCUSDT'], ['bybit.csv', 'bybit', 'ADAUSDT']]) {
  const df = all.filter(pl.col('exchange').eq(pl.lit(ex)).and(pl.col('symbol').eq(pl.lit(sym)))).sort('open_time');
  const cols = ['open', 'high', 'low', 'close', 'volume', 'turnover'].map(c => df.getColumn(c).cast(pl.Utf8).toArray());
  const times = df.getColumn('open_time').cast(pl.Int64).toArray();
  const rows = fs.readFileSync(`${tmp}/${file}`, 'utf8').trim().split('\n').slice(1);
  if (rows.length !== df.height) { console.error(`interop: ${ex} ${sym}: polars read ${df.height} rows, twinstar exported ${rows.length}`); ++bad; continue; }
  let diff = 0;
  rows.forEach((line, i) => {
    const f = line.split(',');
    const same = BigInt(Date.parse(f[0])) * 1000n === BigInt(times[i]) && cols.every((c, k) => norm(c[i]) === norm(f[k + 1]));
    if (!same && diff++ < 3) console.error(`interop: ${ex} ${sym} row ${i + 2}: twinstar ${line}, polars ${times[i]},${cols.map(c => c[i]).join(',')}`);
  });
  if (diff) { console.error(`interop: ${ex} ${sym}: ${diff} rows differ`); ++bad; }
  else console.log(`interop: ${ex} ${sym}: ${rows.length} rows identical in polars and twinstar`);
}
process.exit(bad ? 1 : 0);
EOF
