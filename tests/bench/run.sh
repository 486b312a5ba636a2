#!/bin/sh
# run.sh - the benchmarks of bounced: ingest records per second and peak
# RSS, pipe and spool latency, provider throughput, draining a backlog.
#
#   sh tests/bench/run.sh BUILD_DIR        (scons bench does this)
#
# First ingest.sh (records per second and per CPU second on 2M generated
# records over 200,000 and 1,200,000 addresses, beside the LMDB ceiling
# measured on the same recipients; a sending host's mix of 95 % d at 2M
# and 4M records; a bounce-only file; peak RSS), the spool worker on a
# 2M-record file beside bounced process (worker.sh), then the incident replay
# (incidents.py: a four-day block, what the incidents concluded, ingest
# with incident tracking and rates on and off; block_window.py: the cost
# per record of a block of 1, 2 and 4 hours; pipe_block.py: a minute of a
# block through the pipe, its CPU and bytes written), the pipe and spool
# latency, the providers, a backlog's drain, the mails, and the metrics:
# one RRD update and one graph render, median and slowest.  Files and states live in
# mktemp -d directories removed at the end (also on interrupt).  Not part
# of pass/fail: a failed step is reported and the script exits non-zero,
# nothing else.
set -u

BUILD=${1:-build}
BOUNCED=$BUILD/bounced

if [ ! -x "$BOUNCED" ]; then
	echo "bench: $BOUNCED is missing; build it first (scons, or scons bench)" >&2
	exit 1
fi

TMP=$(mktemp -d -t bounced-bench.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

rc=0
# ingest: records/s beside the LMDB ceiling, peak RSS at 2M and 4M records
sh "$(dirname "$0")/ingest.sh" "$BUILD" || rc=1
# the spool worker on the same kind of file, beside bounced process
sh "$(dirname "$0")/worker.sh" "$BUILD" || rc=1
# incidents: a generated four-day block replayed, tracking on and off
python3 "$(dirname "$0")/incidents.py" --build "$BUILD" || rc=1
# a block of hours with the incident window full: records/s must not fall
python3 "$(dirname "$0")/block_window.py" --build "$BUILD" || rc=1
# the same block through the pipe: what each of its many commits writes
python3 "$(dirname "$0")/pipe_block.py" --build "$BUILD" | tail -n 1 || rc=1

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
