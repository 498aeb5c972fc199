# Shared by the bench scripts (sourced): a release build of cairn, etcd when it is on PATH,
# and members of either started on loopback with the same flags, then stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENT_PORT=${CLIENT_PORT:-23790}   # member i serves clients on CLIENT_PORT + i
PEER_PORT=${PEER_PORT:-23800}       # and peers on PEER_PORT + i

swift build -c release --product cairn --scratch-path .build-release >&2
CAIRN="$(swift build -c release --scratch-path .build-release --show-bin-path)/cairn"
ETCD=$(command -v etcd || true)
kinds=(cairn)
[ -n "$ETCD" ] && kinds+=(etcd)
export ETCDCTL_API=3

work=$(mktemp -d)
member_pids=()
endpoints=""
cleanup() { for pid in "${member_pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# launch_members KIND LABEL COUNT: starts COUNT members of cairn or etcd, data in
# $work/KIND-LABEL-mI (kept across a stop, so launching the same label again restarts them);
# sets $endpoints (comma separated) and $member_pids, and returns at once.
launch_members() {
    local kind=$1 label=$2 count=$3 cluster="" urls=() i
    for i in $(seq 0 $((count - 1))); do
        cluster+="${cluster:+,}m$i=http://127.0.0.1:$((PEER_PORT + i))"
        urls+=("http://127.0.0.1:$((CLIENT_PORT + i))")
    done
    endpoints=$(IFS=,; echo "${urls[*]}")
    if etcdctl --endpoints "$endpoints" --dial-timeout=1s endpoint health >/dev/null 2>&1; then
        echo "something already serves $endpoints: stop it, or set CLIENT_PORT and PEER_PORT" >&2; exit 1
    fi
    member_pids=()
    for i in $(seq 0 $((count - 1))); do
        local name="$kind-$label-m$i"
        local flags=(--name "m$i" --data-dir "$work/$name.data" --listen-client-urls "${urls[$i]}"
            --advertise-client-urls "${urls[$i]}" --listen-peer-urls "http://127.0.0.1:$((PEER_PORT + i))"
            --initial-advertise-peer-urls "http://127.0.0.1:$((PEER_PORT + i))" --initial-cluster "$cluster"
            --initial-cluster-state new --quota-backend-bytes 8589934592)
        if [ "$kind" = cairn ]; then "$CAIRN" server "${flags[@]}" >>"$work/$name.log" 2>&1 &
        else "$ETCD" "${flags[@]}" >>"$work/$name.log" 2>&1 & fi
        member_pids+=($!)
    done
}

# start_members KIND LABEL COUNT: launch_members, then waits until every member is healthy.
start_members() {
    launch_members "$@"
    for _ in $(seq 1 600); do
        etcdctl --endpoints "$endpoints" endpoint health >/dev/null 2>&1 && return 0
        for pid in "${member_pids[@]}"; do kill -0 "$pid" 2>/dev/null || break 2; done
        sleep 0.1
    done
    echo "$1 did not become healthy; its logs:" >&2; tail -n 20 "$work/$1-$2"-m*.log >&2; exit 1
}

stop_members() {
    for pid in "${member_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${member_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    member_pids=()
}

# The median of numbers on stdin (one per line or space separated).
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

# field NAME FILE: the first number after "NAME" : in a cairn bench -w json output.
field() { grep -o "\"$1\" : [0-9.e+-]*" "$2" | head -1 | awk '{print $3}'; }

# p99 FILE: the p99 latency in milliseconds of a cairn bench -w json output.
p99() { grep -A6 '"latencyMs"' "$1" | grep -o '"p99" : [0-9.e+-]*' | awk '{print $3}'; }
