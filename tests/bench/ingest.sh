#!/bin/sh
# ingest.sh - the ingest benchmark: records per second of `bounced process`
# on generated accounting files, beside what LMDB alone can do with the
# same recipients (the ceiling), and peak memory.
#
#   sh tests/bench/ingest.sh BUILD_DIR [[SHAPE:]RECORDS/ADDRESSES ...]
#
# SHAPE is gen_acct's: none (a bounce log: 45 % soft, 25 % hard, 20 %
# deliveries, 5 % complaints, 5 % skipped), "mix" (a sending host's whole
# log: 95 % d, 4 % b, 1 % f; gen_acct --mix) or "bounces" (b records only;
# gen_acct --bounces).  Default inputs: 2000000/200000 and 2000000/1200000
# (2M records on 200k and on 1.2M addresses, beside the LMDB ceiling),
# mix:2000000/200000 and mix:4000000/200000 (twice the records: the heap
# must not grow with them), and bounces:2000000/200000.
# For each, BUILD_DIR/bench/gen_acct writes the file, `BUILD_DIR/bounced
# -q -c CFG process FILE` takes it into a fresh state (no provider: the
# dry-run record of every suppression is written, nothing is sent) under
# /usr/bin/time while BUILD_DIR/bench/memwatch samples its memory and
# its threads' CPU time every 50 ms (/proc/PID/status, /proc/PID/task);
# the line gives the wall time and its records/s, and the CPU time (user
# + system, both threads: reading and committing) and the records per
# CPU second, the figure of one core; the line after it the CPU time of
# each thread (bounced: the reading thread; bounced-commit: the
# committer), as last sampled (up to 50 ms short).  For the default
# shape, BUILD_DIR/bench/
# lmdb_ceiling then does as many read-modify-writes as the file has
# records, on the recipients the state now holds (same keys, values of
# the same size), in sorted batches of 100,000 keys walked in key order,
# each one durable commit: the best LMDB does with that work; then the
# same with each batch's keys taken at random (lmdb_ceiling --random,
# each batch still sorted): the order an input's recipients come in, the
# reading of "sorted batches" that does not also choose the keys.  Lines:
#   ingest 2000000 records / 200000 addresses: 4.12 s, 485000 records/s, CPU 4.80 s (416000 records per CPU second), peak RSS 300 MiB (heap 120 MiB, LMDB map pages 180 MiB; state file 390 MiB)
#     CPU by thread: bounced 2.95 s, bounced-commit 1.81 s
#   lmdb ceiling: 2000000 ops on 198575 keys (mean value 433 bytes), batches of 100000 in key order: 3.43 s, 583283 ops/s
#   lmdb ceiling: 2000000 ops on 198575 keys (mean value 433 bytes), batches of 100000 in random order: 5.10 s, 392156 ops/s
#   ratio to the ceiling: 0.83
#   ratio to the random batches: 1.24
# With BENCH_PIN=CPU (for example BENCH_PIN=0) bounced runs under
# `taskset -c CPU`: it has that one core (bounced process then commits in
# its reading thread), and the wall figure is the figure of one core (the
# line says "pinned to CPU n"); the sampling of its memory then runs on
# another CPU, so as not to take turns with it.
# With BENCH_RUNS=N (default 1) each input is generated once and taken N
# times, each time into a fresh state and, for the default shape,
# followed by the ceiling on that state: ingest and ceiling take turns, so
# a host whose speed drifts slows both alike.  The lines of every run are
# printed, then the medians and the ratio of the median rates:
#   median of 5 runs: 5.10 s, 392156 records/s (4.94-5.62 s)
#   median lmdb ceiling: 824804 ops/s (803001-851337)
#   ratio to the ceiling: 0.48
#   median ratio, run by run: 0.47 (0.44-0.51)
#   median lmdb ceiling, random batches: 452000 ops/s (440000-461000)
#   ratio to the random batches: 0.87
# (the third: each run against the ceiling measured right after it; the
# ratio of the first ceiling is the benchmark's, the stricter)
# Files and states live in a mktemp -d directory (BENCH_TMP, else $TMPDIR)
# removed at the end, also on interrupt.  Not part of pass/fail: a failed
# step is reported and the script exits non-zero, nothing else.
set -u

BUILD=${1:-build}
[ $# -gt 0 ] && shift
GEN=$BUILD/bench/gen_acct
CEIL=$BUILD/bench/lmdb_ceiling
MEMW=$BUILD/bench/memwatch
BOUNCED=$BUILD/bounced
TIME=/usr/bin/time
PIN=${BENCH_PIN:-}
RUNS=${BENCH_RUNS:-1}

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_need "$GEN" "$CEIL" "$MEMW" "$BOUNCED"
bench_runs "$RUNS"
if [ -n "$PIN" ] && ! command -v taskset > /dev/null; then
	echo "bench: BENCH_PIN needs taskset (Debian package 'util-linux')" >&2
	exit 1
fi
if [ ! -x "$TIME" ]; then
	echo "bench: $TIME is missing (Debian package 'time')" >&2
	exit 1
fi

if [ -n "$PIN" ] && [ "$(nproc)" -gt 1 ]; then
	# the memory sampling (memwatch) runs on another CPU than the one
	# measured
	if [ "$PIN" = 0 ]; then other=1; else other=0; fi
	taskset -pc "$other" $$ > /dev/null 2>&1 || true
fi

TMP=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/bounced-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# ingest_run DIR FILE N ADDRS SHAPE - one run of bounced on FILE into a
# fresh state in DIR, its line printed; its wall seconds in DIR/secs
ingest_run() {
	dir=$1
	file=$2
	n=$3
	addrs=$4
	shape=$5
	rm -rf "$dir/state" "$dir/spool"
	mkdir -p "$dir/spool/acct" "$dir/state" || return 1
	sync	# written files' writeback must not compete with our fsyncs
	pincmd=
	pinlabel=
	if [ -n "$PIN" ]; then
		pincmd="taskset -c $PIN"
		pinlabel=", pinned to CPU $PIN"
	fi
	# memwatch samples its child's peak heap and LMDB map pages (a read
	# of /proc per 50 ms, no command started per sample: the sampling
	# must not slow down what it measures)
	# shellcheck disable=SC2086 # pincmd is several words or none
	if ! "$TIME" -f '%e %M %U %S' -o "$dir/time" "$MEMW" "$dir/mem" \
		$pincmd "$BOUNCED" -q -c "$dir/bounced.conf" process "$file" \
		> "$dir/out" 2> "$dir/err"; then
		echo "bench: bounced process failed on $n records:" >&2
		cat "$dir/err" >&2
		return 1
	fi
	read -r anon filerss < "$dir/mem" || { anon=0; filerss=0; }
	# the last line of the time output is ours (a killed child adds one before)
	tail -n 1 "$dir/time" | awk '{print $1}' > "$dir/secs"
	label=
	[ "$shape" = plain ] || label=" ($shape)"
	tail -n 1 "$dir/time" | awk -v n="$n" -v a="$addrs" -v anon="$anon" \
		-v frss="$filerss" -v label="$label" -v pin="$pinlabel" \
		-v db="$(du -m "$dir/state/data.mdb" | cut -f1)" '{
		secs = $1 + 0; rss = $2 + 0; cpu = $3 + $4;
		rate = secs > 0 ? n / secs : 0;
		crate = cpu > 0 ? n / cpu : 0;
		printf "ingest%s %d records / %d addresses: %.2f s, %d records/s, CPU %.2f s (%d records per CPU second), peak RSS %d MiB (heap %d MiB, LMDB map pages %d MiB; state file %d MiB)%s\n",
		       label, n, a, secs, rate, cpu, crate, (rss + 1023) / 1024,
		       (anon + 1023) / 1024, (frss + 1023) / 1024, db, pin }'
	# the CPU time of each thread, as memwatch last sampled it
	awk '$1 == "thread" { t = t sep $2 " " $3 " s"; sep = ", " }
	     END { if (t != "") print "  CPU by thread: " t }' "$dir/mem"
}

# ceiling_one DIR N OUT [--random] - one lmdb_ceiling on the recipients of
# DIR's state, its line printed and its ops/s appended to DIR/OUT
ceiling_one() {
	dir=$1
	n=$2
	out=$3
	shift 3
	rm -rf "$dir/ceiling"
	mkdir -p "$dir/ceiling" || return 1
	sync
	if ! "$CEIL" "$@" "$dir/state" "$n" "$dir/ceiling" > "$dir/ceil"; then
		echo "bench: lmdb_ceiling $* failed on $n records" >&2
		return 1
	fi
	cat "$dir/ceil"
	awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "ops/s") print $i + 0 }' \
		"$dir/ceil" >> "$dir/$out"
}

# ceiling_run DIR N - the ceiling on the recipients of DIR's state (into
# DIR/ceils), then the same batches in random order (DIR/rceils)
ceiling_run() {
	ceiling_one "$1" "$2" ceils &&
		ceiling_one "$1" "$2" rceils --random
}

# bench_one SHAPE N_RECORDS N_ADDRESSES - generate; ingest on a fresh
# state and, for the default shape, measure the ceiling on its recipients,
# RUNS times in turn; report
bench_one() {
	shape=$1
	n=$2
	addrs=$3
	dir=$TMP/run-$shape-$n-$addrs
	mkdir -p "$dir" || return 1
	cat > "$dir/bounced.conf" <<EOC
[bounced]
spool = $dir/spool
state = $dir/state
EOC
	file=$dir/acct-bench-$n.csv
	case $shape in
	plain) genopt= ;;
	*) genopt=--$shape ;;
	esac
	# shellcheck disable=SC2086 # genopt is one word or none
	if ! "$GEN" $genopt "$n" "$addrs" 1 > "$file"; then
		echo "bench: gen_acct $genopt $n $addrs failed" >&2
		return 1
	fi
	: > "$dir/all-secs"
	: > "$dir/ceils"
	: > "$dir/rceils"
	run=0
	while [ "$run" -lt "$RUNS" ]; do
		run=$((run + 1))
		ingest_run "$dir" "$file" "$n" "$addrs" "$shape" || return 1
		cat "$dir/secs" >> "$dir/all-secs"
		if [ "$shape" = plain ]; then
			ceiling_run "$dir" "$n" || return 1
		fi
	done
	rm -f "$file"
	# the medians (of an odd count the middle one, of an even one the
	# mean of the two middle ones) and the ratio of the rates they give
	sort -g "$dir/all-secs" > "$dir/s.sorted"
	sort -g "$dir/ceils" > "$dir/c.sorted"
	sort -g "$dir/rceils" > "$dir/rc.sorted"
	# each run's own ratio, to the ceiling measured right after it (the
	# pair shares the host's speed of the moment)
	paste "$dir/all-secs" "$dir/ceils" | awk -v n="$n" \
		'$1 > 0 && $2 > 0 { print n / $1 / $2 }' | sort -g > "$dir/r.sorted"
	awk -v n="$n" -v runs="$RUNS" -v plain="$([ "$shape" = plain ] && echo 1)" \
		-v cf="$dir/c.sorted" -v rf="$dir/r.sorted" \
		-v rcf="$dir/rc.sorted" '
		function median(a, k) {
			return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
		}
		{ s[++ns] = $1 + 0 }
		END {
			while ((getline line < cf) > 0) c[++nc] = line + 0;
			while ((getline line < rf) > 0) r[++nr] = line + 0;
			while ((getline line < rcf) > 0) rc[++nrc] = line + 0;
			secs = median(s, ns);
			rate = secs > 0 ? n / secs : 0;
			if (runs > 1)
				printf "median of %d runs: %.2f s, %d records/s (%.2f-%.2f s)\n",
				       runs, secs, rate, s[1], s[ns];
			if (plain && nc > 0) {
				ops = median(c, nc);
				if (runs > 1)
					printf "median lmdb ceiling: %d ops/s (%d-%d)\n",
					       ops, c[1], c[nc];
				if (ops > 0)
					printf "ratio to the ceiling: %.2f\n", rate / ops;
				if (runs > 1 && nr > 0)
					printf "median ratio, run by run: %.2f (%.2f-%.2f)\n",
					       median(r, nr), r[1], r[nr];
			}
			if (plain && nrc > 0) {
				ops = median(rc, nrc);
				if (runs > 1)
					printf "median lmdb ceiling, random batches: %d ops/s (%d-%d)\n",
					       ops, rc[1], rc[nrc];
				if (ops > 0)
					printf "ratio to the random batches: %.2f\n",
					       rate / ops;
			}
		}' "$dir/s.sorted"
	rm -rf "$dir"
}

if [ $# -eq 0 ]; then
	set -- 2000000/200000 2000000/1200000 mix:2000000/200000 \
		mix:4000000/200000 bounces:2000000/200000
fi
rc=0
for spec in "$@"; do
	case $spec in
	*:*) shape=${spec%%:*}; spec=${spec#*:} ;;
	*) shape=plain ;;
	esac
	case $shape in
	plain|mix|bounces) ;;
	*) echo "bench: unknown shape '$shape' (mix, bounces or none)" >&2
	   rc=1; continue ;;
	esac
	bench_one "$shape" "${spec%/*}" "${spec#*/}" || rc=1
done
exit $rc
