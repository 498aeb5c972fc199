#!/usr/bin/env bash
# Memory and restart with data, cairn then etcd (when on PATH), one member each:
# - memory: 1,000,000 keys of 256-byte values (written by txn-put, 100 puts per transaction),
#   then the server's resident memory (VmRSS, and of it RssAnon: memory it allocated, and
#   RssFile: database pages mapped from the page cache);
# - restart: 1,048,576 keys of 1 KiB values (a 1 GiB+ database), stopped with SIGTERM and
#   started again RESTARTS times; the time from the process start to its first answered read.
# Writes the table to .build-release/bench-data.md.
KEYS=${KEYS:-1000000}
RESTART_KEYS=${RESTART_KEYS:-1048576}
RESTARTS=${RESTARTS:-3}
source "$(dirname "$0")/lib.sh"

# load KEYS VALUE_SIZE: KEYS distinct keys, in transactions of 100 puts.
load() {
    "$CAIRN" bench txn-put --txn-ops 100 --key-space-size "$1" --total $(($1 / 100)) --val-size "$2" --clients 20 \
        --conns 4 --endpoints "$endpoints" -w json >"$work/load.json"
    echo "  loaded $1 keys of $2 B: $(field requestsPerSecond "$work/load.json") txn/s" >&2
}

status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
db_bytes() { etcdctl --endpoints "$endpoints" endpoint status -w json | grep -o '"dbSize":[0-9]*' | cut -d: -f2; }

declare -A rss anon file dbsize ready
for kind in "${kinds[@]}"; do
    echo "$kind: memory" >&2
    start_members "$kind" memory 1
    load "$KEYS" 256
    etcdctl --endpoints "$endpoints" get --prefix "" --limit 1 >/dev/null
    pid=${member_pids[0]}
    rss[$kind]=$(status_kib "$pid" VmRSS); anon[$kind]=$(status_kib "$pid" RssAnon); file[$kind]=$(status_kib "$pid" RssFile)
    stop_members

    echo "$kind: restart" >&2
    start_members "$kind" restart 1
    load "$RESTART_KEYS" 1024
    dbsize[$kind]=$(db_bytes)
    times=()
    for _ in $(seq 1 "$RESTARTS"); do
        stop_members
        launch_members "$kind" restart 1
        started=$(date +%s%N)
        until etcdctl --endpoints "$endpoints" --dial-timeout=200ms get bench-probe >/dev/null 2>&1; do sleep 0.01; done
        times+=("$(( ($(date +%s%N) - started) / 1000000 ))")
    done
    ready[$kind]=$(echo "${times[*]}" | median)
    echo "  ready after restart: ${times[*]} ms" >&2
    stop_members
done

{
    echo "One member, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
    echo
    echo "| server | RSS with $KEYS keys × 256 B | of it allocated (RssAnon) | of it mapped database (RssFile) | db size, $RESTART_KEYS keys × 1 KiB | restart to first read (median of $RESTARTS) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    for kind in "${kinds[@]}"; do
        printf "| %s | %d MiB | %d MiB | %d MiB | %d MiB | %d ms |\n" "$kind" $((rss[$kind] / 1024)) $((anon[$kind] / 1024)) \
            $((file[$kind] / 1024)) $((dbsize[$kind] / 1048576)) "${ready[$kind]}"
    done
} | tee .build-release/bench-data.md
