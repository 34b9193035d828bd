#!/usr/bin/env bash
# bench/run.sh: run bench/pipe.sh, bench/tcp.sh, bench/slow.sh,
# bench/line.sh, bench/fanin.sh, bench/proxy.sh, bench/socks.sh,
# bench/idle.sh, bench/tls.sh,
# bench/udp.sh, bench/ws.sh, bench/fanout.sh, bench/redis.sh and bench/tcp2.sh,
# then print
# a summary of the figures that have targets. `make bench` calls this.
#
#   bench/run.sh           SIZE=2G for pipe, tcp and tcp2, SLOW_SIZE=512M for slow,
#                          LINE_SIZE=1G for line, FANIN_LINES=100000 (x CLIENTS=50)
#                          for fanin, PROXY_SIZE=2G and CONNS=2000 for proxy,
#                          SOCKS_SIZE=2G and CONNS=2000 for socks,
#                          IDLE_CONNS=10000 for idle, FANOUT_SIZE=1G (x CLIENTS=20)
#                          for fanout, REDIS_REQUESTS=100000 for redis
#   bench/run.sh quick     SIZE=256M, SLOW_SIZE=64M, LINE_SIZE=128M,
#                          FANIN_LINES=10000, PROXY_SIZE=256M, SOCKS_SIZE=256M,
#                          CONNS=500,
#                          IDLE_CONNS=2000, UDP_COUNT=100000,
#                          UDP_FANIN_COUNT=5000, FANOUT_SIZE=64M,
#                          REDIS_REQUESTS=20000, ROUNDS=1 (plumbing check)
#
# Env: WEIR, WEIR_OPTS, ROUNDS (3), SIZE (2G), SLOW_SIZE (512M), LINE_SIZE
#      (1G), RATE (20m), SLOW_ROUNDS (1), CLIENTS (50), FANIN_LINES (100000),
#      PROXY_SIZE (2G), SOCKS_SIZE (2G), CONNS (2000), IDLE_CONNS (10000), FANOUT_SIZE (1G),
#      FANOUT_CLIENTS (20 for fanout.sh; ws.sh's fan-out takes it too,
#      50 unless set), REDIS_REQUESTS (100000). Exit status 1 if a
#      run failed (error, hang, bytes or lines lost, wrong output); a missed
#      target is reported but does not fail.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" = quick ]; then
	: "${SIZE:=256M}" "${SLOW_SIZE:=64M}" "${LINE_SIZE:=128M}" "${ROUNDS:=1}"
	: "${FANIN_LINES:=10000}" "${PROXY_SIZE:=256M}" "${SOCKS_SIZE:=256M}" "${CONNS:=500}" "${IDLE_CONNS:=2000}"
	: "${UDP_COUNT:=100000}" "${UDP_FANIN_COUNT:=5000}" "${WS_BULK_COUNT:=2048}" "${WS_SMALL_COUNT:=100000}"
	: "${FANOUT_SIZE:=64M}" "${REDIS_REQUESTS:=20000}"
fi
export ROUNDS=${ROUNDS:-3}
SUMMARY=$(mktemp "${TMPDIR:-/tmp}/weir-bench-summary.XXXXXX")
export SUMMARY
trap 'rm -f "$SUMMARY"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

st=0
SIZE=${SIZE:-2G} bash "$here/pipe.sh" || st=1
echo
SIZE=${SIZE:-2G} bash "$here/tcp.sh" || st=1
echo
SIZE=${SLOW_SIZE:-512M} bash "$here/slow.sh" || st=1
echo
SIZE=${LINE_SIZE:-1G} bash "$here/line.sh" || st=1
echo
LINES=${FANIN_LINES:-100000} bash "$here/fanin.sh" || st=1
echo
SIZE=${PROXY_SIZE:-2G} CONNS=${CONNS:-2000} bash "$here/proxy.sh" || st=1
echo
SIZE=${SOCKS_SIZE:-2G} CONNS=${CONNS:-2000} bash "$here/socks.sh" || st=1
echo
IDLE_CONNS=${IDLE_CONNS:-10000} bash "$here/idle.sh" || st=1
echo
SIZE=${TLS_SIZE:-${SIZE:-1G}} CONNS=${CONNS:-1000} IDLE_CONNS=${IDLE_CONNS:-10000} bash "$here/tls.sh" || st=1
echo
COUNT=${UDP_COUNT:-1000000} FANIN_COUNT=${UDP_FANIN_COUNT:-50000} bash "$here/udp.sh" || st=1
echo
BULK_COUNT=${WS_BULK_COUNT:-16384} SMALL_COUNT=${WS_SMALL_COUNT:-1000000} bash "$here/ws.sh" || st=1
echo
FANOUT_SIZE=${FANOUT_SIZE:-1G} CLIENTS=${FANOUT_CLIENTS:-20} bash "$here/fanout.sh" || st=1
echo
REQUESTS=${REDIS_REQUESTS:-100000} bash "$here/redis.sh" || st=1
echo
SIZE=${SIZE:-2G} bash "$here/tcp2.sh" || st=1
echo
echo "== summary (ratios are throughput: > 1 means weir is faster)"
cat "$SUMMARY"
if [ "$st" != 0 ]; then echo "== some runs FAILED (see above)"; fi
exit "$st"
