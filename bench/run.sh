#!/usr/bin/env bash
# Benchmark harness: makes mixed evidence with `breachline simulate --scale`, then times
# ingest / timeline / report end to end (median of REPS runs, page cache warm), report
# from the case file the ingest wrote, per-format ingest throughput, `cat > /dev/null` as
# the floor and, when the PyPI package `duckdb` is importable, DuckDB's bare load of the
# same files as the baseline. Writes bench/RESULTS.md.
#
# Usage: bench/run.sh [SCALE ...]     (default: 30, about 1 GB of uncompressed evidence)
# Env:   REPS=3  WORK=/tmp/breachline-bench  BIN=target/release/breachline
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
WORK=${WORK:-/tmp/breachline-bench}
BIN=${BIN:-target/release/breachline}
SCALES=("${@:-30}")
# Every discarded output, and the floor itself, goes to /dev/null: where it is a regular
# file (seen on this project's machines), they would be written to it and timed.
if [ ! -c /dev/null ]; then
  echo "bench: /dev/null is not the null device here; recreate it first (as root:" \
    "mknod -m 666 /dev/null.new c 1 3 && mv -f /dev/null.new /dev/null)" >&2
  exit 1
fi
[ -x "$BIN" ] || cargo build --release
mkdir -p "$WORK"
out=bench/RESULTS.md
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# run LABEL OK CMD... -> "seconds maxrss_kb" (median seconds, max RSS over runs), or
# "fail fail" when a run exits with a code not in OK (a space-separated list): a failed
# run is not a figure (its stderr is kept in $WORK/LABEL.err).
run() {
  local label=${1//\//-}; local ok=" $2 "; shift 2
  local ts=() rss=0 rc
  "$@" >/dev/null 2>&1 || true   # warm the page cache
  for _ in $(seq "$REPS"); do
    rc=0
    /usr/bin/time -q -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/$label.err" || rc=$?
    if [[ "$ok" != *" $rc "* ]]; then
      echo "bench: $label failed (exit $rc), see $WORK/$label.err" >&2
      echo "fail fail"; return
    fi
    read -r s m < "$WORK/time.txt"
    ts+=("$s"); [ "$m" -gt "$rss" ] && rss=$m
  done
  printf '%s %s\n' "$(printf '%s\n' "${ts[@]}" | median)" "$rss"
}
# breachline exits 2 when evidence was rejected: simulate writes corrupt lines on purpose.
BL_OK="0 2"
{
  echo "# breachline benchmark results"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(uname -sr)."
  echo "breachline $("$BIN" --version | awk '{print $2}'); $(rustc --version); REPS=$REPS, medians, page cache warm."
  python3 -c 'import duckdb; print("DuckDB", duckdb.__version__)' 2>/dev/null || echo "DuckDB: not installed (pip install duckdb for the baseline)"
  echo
} > "$out"
for scale in "${SCALES[@]}"; do
  ev="$WORK/scale-$scale"
  plain="$WORK/plain-$scale"
  if [ ! -d "$plain" ]; then
    rm -rf "$ev"
    t0=$(date +%s.%N)
    "$BIN" simulate --out-dir "$ev" --scale "$scale" --gateway apigw-json --db pg-csvlog,mysql-audit-json --push fcm-bigquery-json > "$WORK/sim.txt"
    t1=$(date +%s.%N)
    # Uncompressed copies, so parsing is measured rather than gzip.
    (cd "$ev" && find gateway db push -type f) | while read -r f; do
      mkdir -p "$plain/$(dirname "$f")"
      case "$f" in *.gz) gzip -dc "$ev/$f" > "$plain/${f%.gz}";; *) cp "$ev/$f" "$plain/$f";; esac
    done
    raw=$(du -sb "$plain" | cut -f1)
    echo "simulate --scale $scale: $(cat "$WORK/sim.txt"); $(awk -v r="$raw" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f MB uncompressed in %.1f s = %.0f MB/s", r/1e6, b-a, r/1e6/(b-a)}')" >> "$out"
  fi
  bytes=$(du -sb "$plain" | cut -f1)
  mb=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b/1e6}')
  events=$( ("$BIN" ingest "$plain" -q 2>/dev/null || true) | tail -1 | awk "{print \$3}")
  echo >> "$out"
  echo "## Scale $scale: $mb MB uncompressed, $events events" >> "$out"
  echo >> "$out"
  echo "| command | median s | MB/s | events/s | peak RSS MB | RSS / input |" >> "$out"
  echo "|---|---|---|---|---|---|" >> "$out"
  row() {
    if [ "$2" = fail ]; then echo "| $1 | failed (see $WORK) | | | | |" >> "$out"; return; fi
    awk -v l="$1" -v s="$2" -v m="$3" -v b="$bytes" -v e="$events" 'BEGIN {printf "| %s | %.2f | %.0f | %.0f | %.0f | %.2f |\n", l, s, b/1e6/s, e/s, m/1024, m*1024/b}' >> "$out"
  }
  read -r s m < <(run cat 0 sh -c "cat $(find "$plain" -type f | tr '\n' ' ') > /dev/null"); row "cat > /dev/null (floor)" "$s" "$m"
  read -r s m < <(run ingest "$BL_OK" "$BIN" ingest "$plain" -q -o "$WORK/case.parquet"); row "breachline ingest -o case.parquet" "$s" "$m"
  read -r s m < <(run timeline "$BL_OK" "$BIN" timeline "$plain" -q --format csv -o "$WORK/out.csv"); row "breachline timeline -o out.csv" "$s" "$m"
  read -r s m < <(run report "$BL_OK" "$BIN" report "$plain" -q --roster "$ev/roster.csv" --out-dir "$WORK/report"); row "breachline report" "$s" "$m"
  # The case file the ingest rows wrote: how fast an analysis rereads parsed evidence.
  read -r s m < <(run report-case "$BL_OK" "$BIN" report "$WORK/case.parquet" -q --roster "$ev/roster.csv" --out-dir "$WORK/report-case"); row "breachline report case.parquet (rereads the ingest's case file)" "$s" "$m"
  if python3 -c 'import duckdb' 2>/dev/null; then
    # DuckDB refuses a JSON array with a corrupt record (MySQL's audit file as written,
    # with simulate's corrupt lines) even with ignore_errors: it gets a newline-delimited
    # copy (brackets and trailing commas stripped), made here and not timed.
    nd="$WORK/ndjson-$scale"
    if [ ! -d "$nd" ]; then
      mkdir -p "$nd"
      for f in "$plain"/db/mysql-audit-json/*; do
        sed -e '/^\[$/d' -e '/^\]$/d' -e 's/},$/}/' "$f" > "$nd/$(basename "$f")"
      done
    fi
    cat > "$WORK/duck.py" <<PY
import duckdb
c = duckdb.connect()
c.execute("CREATE TABLE gw AS SELECT * FROM read_json_auto('$plain/gateway/apigw-json/*', format='newline_delimited', ignore_errors=true)")
c.execute("CREATE TABLE pg AS SELECT * FROM read_csv_auto('$plain/db/pg-csvlog/*', header=false, ignore_errors=true)")
c.execute("CREATE TABLE my AS SELECT * FROM read_json_auto('$nd/*', format='newline_delimited', ignore_errors=true)")
c.execute("CREATE TABLE fcm AS SELECT * FROM read_json_auto('$plain/push/fcm-bigquery-json/*', format='newline_delimited', ignore_errors=true)")
# A load that parsed nothing is no baseline: every table must have typed columns and rows.
for t in ("gw", "pg", "my", "fcm"):
    n, cols = c.execute(f"SELECT count(*), (SELECT count(*) FROM (DESCRIBE {t})) FROM {t}").fetchone()
    assert n > 0 and cols > 1, f"{t}: {n} rows, {cols} columns"
PY
    read -r s m < <(run duckdb 0 python3 "$WORK/duck.py"); row "DuckDB bare load (baseline)" "$s" "$m"
  fi
  echo >> "$out"
  echo "Per-format ingest (into a case file):" >> "$out"
  echo >> "$out"
  for d in gateway/apigw-json db/pg-csvlog db/mysql-audit-json; do
    fb=$(du -sb "$plain/$d" | cut -f1)
    read -r s m < <(run "$d" "$BL_OK" "$BIN" ingest "$plain/$d" -q -o "$WORK/f.parquet")
    awk -v l="$d" -v s="$s" -v m="$m" -v b="$fb" 'BEGIN {printf "- %s: %.0f MB in %.2f s = %.0f MB/s, peak RSS %.0f MB (%.2f × input)\n", l, b/1e6, s, b/1e6/s, m/1024, m*1024/b}' >> "$out"
  done
done
echo "wrote $out"
