# shellcheck shell=sh
# lib.sh - what the shell benchmarks share; sourced by ingest.sh and
# worker.sh (POSIX sh).

# bench_need FILE... - each is an executable of the build, else exit 1
bench_need() {
	for f in "$@"; do
		if [ ! -x "$f" ]; then
			echo "bench: $f is missing; build it first (scons, or scons bench)" >&2
			exit 1
		fi
	done
}

# bench_runs N - N (BENCH_RUNS) is a number of runs, 1 or more, else exit 64
bench_runs() {
	case $1 in
	''|*[!0-9]*|0)
		echo "bench: BENCH_RUNS must be a number of runs, 1 or more (got '$1')" >&2
		exit 64 ;;
	esac
}
