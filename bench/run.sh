#!/usr/bin/env bash
# `make bench`: cairn bench against a release build of cairn and, when `etcd` is on PATH,
# against etcd started with the same flags, alternating server by server for ROUNDS rounds;
# prints a table of throughput and p99 latency with the cairn/etcd ratios, and writes it to
# .build-release/bench-results.md. Not part of `make test` (the suite runs a small smoke run).
ROUNDS=${ROUNDS:-2}
SCALE=${SCALE:-1}          # multiply every --total (SCALE=0.1 for a quick look)
source "$(dirname "$0")/lib.sh"

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

for round in $(seq 1 "$ROUNDS"); do
    for kind in "${kinds[@]}"; do
        start_members "$kind" "$round" 1
        ETCDCTL_API=3 etcdctl --endpoints "$endpoints" put bench-key "$(head -c 256 /dev/zero | tr '\0' v)" >/dev/null
        for index in "${!workloads[@]}"; do
            read -r -a arguments <<<"${workloads[$index]#*|}"
            "$CAIRN" bench "${arguments[@]}" --endpoints "$endpoints" -w json >"$work/$kind-$round-$index.json"
            # watch-latency reports its puts, then its events: the events are what it measures.
            if [ "${arguments[0]}" = watch-latency ]; then
                sed -n '/"events"/,$p' "$work/$kind-$round-$index.json" >"$work/events.json"
                mv "$work/events.json" "$work/$kind-$round-$index.json"
            fi
            echo "round $round, $kind: ${workloads[$index]%%|*}: $(field requestsPerSecond "$work/$kind-$round-$index.json") req/s" >&2
        done
        stop_members
    done
done

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
