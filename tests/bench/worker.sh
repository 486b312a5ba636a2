#!/bin/sh
# worker.sh - the spool worker on a large file: how long `bounced run`
# takes to take a generated accounting file renamed into SPOOL/acct/ (from
# the rename until the file is in SPOOL/done/), beside `bounced process`
# on the same file, each into a fresh state.
#
#   sh tests/bench/worker.sh BUILD_DIR [RECORDS/ADDRESSES]
#
# Default 2000000/200000 (gen_acct's bounce log).  With BENCH_RUNS=N
# (default 1) the two take turns N times.  Lines:
#   worker 2000000 records / 200000 addresses: run 4.62 s (432900 records/s), process 4.21 s (475059 records/s)
# The worker reads the file in steps of about 50 ms between the turns of
# its loop; the figure says what those steps cost against one reading to
# the end.  Files and states live in a mktemp -d directory (BENCH_TMP, else
# $TMPDIR) removed at the end, also on interrupt.  Not part of pass/fail: a
# failed step is reported and the script exits non-zero, nothing else.
set -u

BUILD=${1:-build}
SPEC=${2:-2000000/200000}
GEN=$BUILD/bench/gen_acct
BOUNCED=$BUILD/bounced
RUNS=${BENCH_RUNS:-1}
# the most a take may last (seconds) before the run counts as failed
LIMIT=600

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_need "$GEN" "$BOUNCED"
bench_runs "$RUNS"
n=${SPEC%/*}
addrs=${SPEC#*/}
case $n$addrs in
*[!0-9]*|'')
	echo "bench: RECORDS/ADDRESSES expected (got '$SPEC')" >&2
	exit 64 ;;
esac

TMP=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/bounced-worker.XXXXXX") || exit 1
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# now - seconds since the epoch, with nanoseconds
now() {
	date +%s.%N
}

# since T0 - the seconds from T0 to now
since() {
	awk -v t0="$1" -v t1="$(now)" 'BEGIN { printf "%.3f\n", t1 - t0 }'
}

# fresh - an empty state and spool, and their configuration
fresh() {
	rm -rf "$TMP/state" "$TMP/spool"
	mkdir -p "$TMP/state" "$TMP/spool/acct" || return 1
	printf '[bounced]\nspool = %s\nstate = %s\n' "$TMP/spool" \
		"$TMP/state" > "$TMP/bounced.conf"
	sync
}

# take_run - bounced run takes the file; its seconds on stdout
take_run() {
	fresh || return 1
	"$BOUNCED" -q -c "$TMP/bounced.conf" run 2> "$TMP/run.err" &
	PID=$!
	sleep 1		# started, watching SPOOL/acct
	ln "$TMP/acct.csv" "$TMP/spool/acct/.acct.csv" || return 1
	# the rename and the wait: one process that polls (wait_taken.py)
	if ! secs=$(python3 "$(dirname "$0")/wait_taken.py" "$TMP/spool" \
		"$PID" "$LIMIT"); then
		cat "$TMP/run.err" >&2
		kill "$PID" 2>/dev/null
		PID=
		return 1
	fi
	kill "$PID" && wait "$PID"
	PID=
	echo "$secs"
}

# take_process - bounced process takes the file; its seconds on stdout
take_process() {
	fresh || return 1
	t0=$(now)
	if ! "$BOUNCED" -q -c "$TMP/bounced.conf" process "$TMP/acct.csv" \
		> /dev/null 2> "$TMP/process.err"; then
		echo "bench: bounced process failed:" >&2
		cat "$TMP/process.err" >&2
		return 1
	fi
	since "$t0"
}

if ! "$GEN" "$n" "$addrs" > "$TMP/acct.csv"; then
	echo "bench: gen_acct failed" >&2
	exit 1
fi
rc=0
for _ in $(seq "$RUNS"); do
	r=$(take_run) || { rc=1; break; }
	p=$(take_process) || { rc=1; break; }
	echo "$r $p" | awk -v n="$n" -v a="$addrs" '{
		printf "worker %d records / %d addresses: run %.2f s (%d records/s), process %.2f s (%d records/s)\n",
		n, a, $1, ($1 > 0 ? n / $1 : 0), $2, ($2 > 0 ? n / $2 : 0) }'
done
exit $rc
