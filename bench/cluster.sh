#!/usr/bin/env bash
# Three members on loopback, cairn then etcd (when on PATH), for ROUNDS rounds: puts from 200
# clients over 20 connections spread over the three members (as etcd's benchmark spreads them;
# a follower forwards to the leader). Prints the medians and the cairn/etcd ratio, and writes
# them to .build-release/bench-cluster.md.
ROUNDS=${ROUNDS:-2}
TOTAL=${TOTAL:-60000}
source "$(dirname "$0")/lib.sh"

for round in $(seq 1 "$ROUNDS"); do
    for kind in "${kinds[@]}"; do
        start_members "$kind" "cluster-$round" 3
        "$CAIRN" bench put --clients 200 --conns 20 --total "$TOTAL" --val-size 1024 --key-space-size 100000 \
            --endpoints "$endpoints" -w json >"$work/$kind-$round.json"
        echo "round $round, $kind: $(field requestsPerSecond "$work/$kind-$round.json") req/s" >&2
        stop_members
    done
done

{
    echo "3 members on loopback, put, 200 clients / 20 conns, 1 KiB, $TOTAL puts; median of $ROUNDS rounds, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
    echo
    echo "| server | req/s | p99 ms |"
    echo "| --- | ---: | ---: |"
    declare -A rate=()
    for kind in "${kinds[@]}"; do
        rate[$kind]=$(for round in $(seq 1 "$ROUNDS"); do field requestsPerSecond "$work/$kind-$round.json"; done | median)
        latency=$(for round in $(seq 1 "$ROUNDS"); do p99 "$work/$kind-$round.json"; done | median)
        printf "| %s | %.0f | %.2f |\n" "$kind" "${rate[$kind]}" "$latency"
    done
    [ -n "$ETCD" ] && awk -v c="${rate[cairn]}" -v e="${rate[etcd]}" 'BEGIN { printf "\ncairn/etcd: %.2f\n", c / e }'
} | tee .build-release/bench-cluster.md
