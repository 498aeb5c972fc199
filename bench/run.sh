#!/usr/bin/env bash
# `make bench`: cairn bench against a release build of cairn and, when `etcd` is on PATH,
# against etcd started with the same flags, alternating server by server for ROUNDS rounds;
# prints a table of throughput and p99 latency with the cairn/etcd ratios, and writes it to
# .build-release/bench-results.md. Not part of `make test` (the suite runs a small smoke run).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-2}
SCALE=${SCALE:-1}          # multiply every --total (SCALE=0.1 for a quick look)
CLIENT_PORT=${CLIENT_PORT:-23790}
PEER_PORT=${PEER_PORT:-23800}
ENDPOINT=http://127.0.0.1:$CLIENT_PORT

swift build -c release --product cairn --scratch-path .build-release
CAIRN="$(swift build -c release --scratch-path .build-release --show-bin-path)/cairn"
ETCD=$(command -v etcd || true)
kinds=(cairn)
[ -n "$ETCD" ] && kinds+=(etcd)

work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

start() { # kind round
    local data="$work/$1-$2.data"
    local flags=(--name bench --data-dir "$data" --listen-client-urls "$ENDPOINT" --advertise-client-urls "$ENDPOINT"
        --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT"
        --initial-cluster "bench=http://127.0.0.1:$PEER_PORT" --quota-backend-bytes 8589934592)
    if [ "$1" = cairn ]; then "$CAIRN" server "${flags[@]}" >"$work/$1-$2.log" 2>&1 &
    else "$ETCD" "${flags[@]}" >"$work/$1-$2.log" 2>&1 & fi
    server_pid=$!
    if ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINT" --dial-timeout=1s endpoint health >/dev/null 2>&1; then
        echo "something already serves $ENDPOINT: stop it, or set CLIENT_PORT and PEER_PORT" >&2; exit 1
    fi
    for _ in $(seq 1 300); do
        kill -0 "$server_pid" 2>/dev/null || break
        ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINT" endpoint health >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "$1 did not become healthy; its log:" >&2; tail -20 "$work/$1-$2.log" >&2; exit 1
}

stop() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }

total() { awk -v n="$1" -v s="$SCALE" 'BEGIN { t = int(n * s); print (t < 1 ? 1 : t) }'; }

# name | cairn bench arguments
workloads=(
    "put, 1 client, 256 B|put --clients 1 --conns 1 --total $(total 3000) --val-size 256 --key-space-size 100000"
    "put, 200 clients / 20 conns, 1 KiB|put --clients 200 --conns 20 --total $(total 60000) --val-size 1024 --key-space-size 100000"
    "range linearizable, 100 clients|range bench-key --clients 100 --conns 10 --total $(total 60000) --consistency l"
    "range serializable, 100 clients|range bench-key --clients 100 --conns 10 --total $(total 60000) --consistency s"
    "lease keep-alive, 10 clients / 2 conns|lease-keepalive --clients 10 --conns 2 --total $(total 20000)"
    "watch events, 100 watchers, puts as fast as 1 client|watch-latency --streams 10 --watchers-per-stream 10 --conns 2 --put-total $(total 2000) --put-rate 0 --val-size 256"
)

field() { grep -o "\"$1\" : [0-9.e+-]*" "$2" | head -1 | awk '{print $3}'; }
p99() { grep -A6 '"latencyMs"' "$1" | grep -o '"p99" : [0-9.e+-]*' | awk '{print $3}'; }

for round in $(seq 1 "$ROUNDS"); do
    for kind in "${kinds[@]}"; do
        start "$kind" "$round"
        ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINT" put bench-key "$(head -c 256 /dev/zero | tr '\0' v)" >/dev/null
        for index in "${!workloads[@]}"; do
            read -r -a arguments <<<"${workloads[$index]#*|}"
            "$CAIRN" bench "${arguments[@]}" --endpoints "$ENDPOINT" -w json >"$work/$kind-$round-$index.json"
            # watch-latency reports its puts, then its events: the events are what it measures.
            if [ "${arguments[0]}" = watch-latency ]; then
                sed -n '/"events"/,$p' "$work/$kind-$round-$index.json" >"$work/events.json"
                mv "$work/events.json" "$work/$kind-$round-$index.json"
            fi
            echo "round $round, $kind: ${workloads[$index]%%|*}: $(field requestsPerSecond "$work/$kind-$round-$index.json") req/s" >&2
        done
        stop
    done
done

# The median of a list of numbers.
median() { tr ' ' '\n' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

results=.build-release/bench-results.md
{
    echo "cairn bench, median of $ROUNDS rounds, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores; etcd: ${ETCD:-not on PATH}"
    echo
    echo "| workload | cairn req/s | etcd req/s | cairn/etcd | cairn p99 ms | etcd p99 ms |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    for index in "${!workloads[@]}"; do
        declare -A rate=() latency=()
        for kind in "${kinds[@]}"; do
            rate[$kind]=$(for round in $(seq 1 "$ROUNDS"); do field requestsPerSecond "$work/$kind-$round-$index.json"; done | xargs | median)
            latency[$kind]=$(for round in $(seq 1 "$ROUNDS"); do p99 "$work/$kind-$round-$index.json"; done | xargs | median)
        done
        ratio="-"
        [ -n "$ETCD" ] && ratio=$(awk -v c="${rate[cairn]}" -v e="${rate[etcd]}" 'BEGIN { printf "%.2f", c / e }')
        printf "| %s | %.0f | %s | %s | %.2f | %s |\n" "${workloads[$index]%%|*}" "${rate[cairn]}" \
            "$([ -n "$ETCD" ] && printf %.0f "${rate[etcd]}" || echo -)" "$ratio" "${latency[cairn]}" \
            "$([ -n "$ETCD" ] && printf %.2f "${latency[etcd]}" || echo -)"
    done
} | tee "$results"
