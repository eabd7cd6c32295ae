#!/bin/sh
# bench/experiments/pool-gap.sh [rounds] - what the random 1-thread row's gap
# to jemalloc is made of (docs/performance.md, "Why the random rows stop
# short of jemalloc"). Runs, interleaved, in thread CPU time, `rounds`
# times (default 7), and prints each variant's median and its ratio to
# jemalloc's median:
#   pool            build/bench/bench_pool as it is
#   pool+hint       the same, the next free's page record prefetched one
#                   operation early by the benchmark (BENCH_POOL_HINT=1)
#   floor           the pool with pool-floor.patch: no type, IRQL, tag or
#                   header checks and no accounting in the fast paths (not
#                   a legal pool: Windows' rules are gone)
#   floor+hint      both
#   pool+pad100     100 more register adds per operation (BENCH_POOL_PAD)
# Needs `make` to have built build/; builds the floor in a scratch worktree.
set -eu
rounds=${1:-7}
top=$(git rev-parse --show-toplevel)
bin=$top/build/bench
[ -x "$bin/bench_pool" ] && [ -x "$bin/bench_pool_jemalloc" ] || {
    echo "pool-gap.sh: build first (make)" >&2
    exit 1
}
tmp=$(mktemp -d)
trap 'git -C "$top" worktree remove --force "$tmp/src" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
git -C "$top" worktree add -q --detach "$tmp/src" HEAD
git -C "$tmp/src" apply "$top/bench/experiments/pool-floor.patch"
cmake -S "$tmp/src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$tmp/build" --target bench_pool -j 2 >/dev/null
floor=$tmp/build/bench/bench_pool

one() { # name env... command -> appends ns to $tmp/name
    name=$1
    shift
    env BENCH_POOL_CPU=1 "$@" | awk '{ print $1 / 1000 }' >>"$tmp/$name"
}
for r in $(seq "$rounds"); do
    one jemalloc "$bin/bench_pool_jemalloc" one 2 0
    one pool "$bin/bench_pool" one 0 0
    one pool+hint BENCH_POOL_HINT=1 "$bin/bench_pool" one 0 0
    one floor "$floor" one 0 0
    one floor+hint BENCH_POOL_HINT=1 "$floor" one 0 0
    one pool+pad100 BENCH_POOL_PAD=100 "$bin/bench_pool" one 0 0
done
median() { sort -n "$tmp/$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
j=$(median jemalloc)
printf '%-12s %8s ns/op\n' jemalloc "$j"
for v in pool pool+hint floor floor+hint pool+pad100; do
    m=$(median "$v")
    awk -v v="$v" -v m="$m" -v j="$j" 'BEGIN { printf "%-12s %8s ns/op  %.2fx of jemalloc\n", v, m, m / j }'
done
