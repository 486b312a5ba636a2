#!/bin/sh
# run.sh - the benchmarks of bounced: ingest records per second and peak
# RSS, pipe and spool latency, provider throughput, draining a backlog.
#
#   sh tests/bench/run.sh BUILD_DIR        (scons bench does this)
#
# For each size (2,000,000 records over 200,000 addresses first, then 1M and
# 4M), BUILD_DIR/bench/gen_acct writes an accounting file, and
# `BUILD_DIR/bounced -q -c CFG process FILE` takes it into a fresh state under
# /usr/bin/time.  One line per size:
#   ingest 2000000 records / 200000 addresses: 1.93 s, 1036000 records/s, peak RSS 41 MiB
# Then the metrics: one RRD update and one graph render, median and slowest.
# Files and states live in a mktemp -d directory removed at the end (also on
# interrupt).  Not part of pass/fail: a failed step is reported and the
# script exits non-zero, nothing else.
set -u

BUILD=${1:-build}
GEN=$BUILD/bench/gen_acct
BOUNCED=$BUILD/bounced
TIME=/usr/bin/time

for f in "$GEN" "$BOUNCED"; do
	if [ ! -x "$f" ]; then
		echo "bench: $f is missing; build it first (scons, or scons bench)" >&2
		exit 1
	fi
done
if [ ! -x "$TIME" ]; then
	echo "bench: $TIME is missing (Debian package 'time')" >&2
	exit 1
fi

TMP=$(mktemp -d -t bounced-bench.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# bench_one N_RECORDS N_ADDRESSES - generate, ingest on a fresh state, report
bench_one() {
	n=$1
	addrs=$2
	dir=$TMP/run-$n
	mkdir -p "$dir/spool/acct" "$dir/state" || return 1
	cat > "$dir/bounced.conf" <<EOF
[bounced]
spool = $dir/spool
state = $dir/state
EOF
	file=$dir/spool/acct/acct-bench-$n.csv
	if ! "$GEN" "$n" "$addrs" 1 > "$file"; then
		echo "bench: gen_acct $n $addrs failed" >&2
		return 1
	fi
	sync	# the generated file's writeback must not compete with our fsyncs
	"$TIME" -f '%e %M' -o "$dir/time" \
		"$BOUNCED" -q -c "$dir/bounced.conf" process "$file" \
		> "$dir/out" 2> "$dir/err" &
	tpid=$!
	# peak anonymous (heap) and file-backed (LMDB map) memory, sampled
	anon=0
	filerss=0
	while kill -0 "$tpid" 2>/dev/null; do
		bpid=$(pgrep -P "$tpid" bounced 2>/dev/null | head -n 1)
		if [ -n "$bpid" ] && [ -r "/proc/$bpid/status" ]; then
			a=$(awk '/^RssAnon:/ {print $2}' "/proc/$bpid/status" 2>/dev/null)
			f=$(awk '/^RssFile:/ {print $2}' "/proc/$bpid/status" 2>/dev/null)
			[ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a
			[ -n "$f" ] && [ "$f" -gt "$filerss" ] && filerss=$f
		fi
		sleep 0.05
	done
	if ! wait "$tpid"; then
		echo "bench: bounced process failed on $n records:" >&2
		cat "$dir/err" >&2
		return 1
	fi
	# the last line of the time output is ours (a killed child adds one before)
	tail -n 1 "$dir/time" | awk -v n="$n" -v a="$addrs" -v anon="$anon" \
		-v frss="$filerss" -v db="$(du -m "$dir/state/data.mdb" | cut -f1)" '{
		secs = $1 + 0; rss = $2 + 0;
		rate = secs > 0 ? n / secs : 0;
		printf "ingest %d records / %d addresses: %.2f s, %d records/s, peak RSS %d MiB (heap %d MiB, LMDB map pages %d MiB; state file %d MiB)\n",
		       n, a, secs, rate, (rss + 1023) / 1024, (anon + 1023) / 1024,
		       (frss + 1023) / 1024, db }'
	rm -rf "$dir"
}

rc=0
bench_one 2000000 200000 || rc=1
bench_one 1000000 200000 || rc=1
bench_one 4000000 200000 || rc=1

# latency: a record written to the pipe until committed; a file renamed
# into acct/ until its first request reaches the fake MailWizz
mkdir -p "$TMP/pipe" &&
	"$BUILD/bench/pipe_latency" "$BOUNCED" "$TMP/pipe" 50 | tail -n 1 || rc=1
python3 "$(dirname "$0")/latency.py" --build "$BUILD" | tail -n 1 || rc=1
python3 "$(dirname "$0")/providers.py" --build "$BUILD" | grep -v CPU || rc=1
# a backlog of 240,000 records drains as fast as 30,000 (a quarter hour)
python3 "$(dirname "$0")/backlog.py" --build "$BUILD" || rc=1
# feedback reports and unsubscribe mails, one transaction each
python3 "$(dirname "$0")/mails.py" --build "$BUILD" || rc=1
# one RRD update and one graph render (metrics_time.c)
"$BUILD/bench/metrics_time" 200 || rc=1
exit $rc
