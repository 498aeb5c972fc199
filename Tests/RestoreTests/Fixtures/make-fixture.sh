#!/usr/bin/env bash
# Builds the etcd snapshot fixture the RestoreTests read (Tests/RestoreTests/Fixtures), using a real etcd.
#
# Starts a throwaway single-member etcd on 127.0.0.1 (free ports, temp data dir), writes a fixed
# data set with etcdctl, saves a snapshot and records what etcdctl itself reports about that data
# in expected.json, so the tests compare the Swift reader against etcd, not against itself.
#
# Outputs (next to this script):
#   etcd-<version>.snapshot.db   the `etcdctl snapshot save` file, SHA-256 trailer included
#   expected.json                etcdctl's view: every live key, leases, revisions, snapshot status
#
# Needs: etcd, etcdctl (3.4 or 3.5), jq, python3, ss. Usage: make-fixture.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
etcd_bin="${ETCD:-etcd}"
etcdctl_bin="${ETCDCTL:-etcdctl}"
export ETCDCTL_API=3

version="$("$etcd_bin" --version | awk '/^etcd Version:/ {print $3}')"
snapshot_out="$here/etcd-$version.snapshot.db"
expected_out="$here/expected.json"

work="$(mktemp -d)"
etcd_pid=""
cleanup() {
  if [[ -n "$etcd_pid" ]]; then
    kill "$etcd_pid" 2>/dev/null || true
    wait "$etcd_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A port nobody listens on, away from etcd's well-known 2379/2380.
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 20000))
    if [[ -z "$(ss -Htln "sport = :$port")" ]]; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

client_port="$(free_port)"
peer_port="$(free_port)"
while [[ "$peer_port" == "$client_port" ]]; do peer_port="$(free_port)"; done
endpoint="http://127.0.0.1:$client_port"

"$etcd_bin" --name fixture --data-dir "$work/data" \
  --listen-client-urls "$endpoint" --advertise-client-urls "$endpoint" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "fixture=http://127.0.0.1:$peer_port" \
  --initial-cluster-state new >"$work/etcd.log" 2>&1 &
etcd_pid=$!

ctl() { "$etcdctl_bin" --endpoints "$endpoint" --command-timeout=10s "$@"; }

# Poll until the member serves requests, with a deadline instead of a fixed sleep.
deadline=$((SECONDS + 30))
until ctl endpoint health >/dev/null 2>&1; do
  if ((SECONDS > deadline)) || ! kill -0 "$etcd_pid" 2>/dev/null; then
    echo "etcd did not become healthy; log:" >&2
    cat "$work/etcd.log" >&2
    exit 1
  fi
  sleep 0.1
done

revision() { ctl endpoint status -w json | jq -r '.[0].Status.header.revision'; }

# 200 plain keys.
for i in $(seq 0 199); do
  n="$(printf '%03d' "$i")"
  ctl put "/registry/pods/ns/p$n" "pod-$n-spec-v1" >/dev/null
done

# One key overwritten several times (version 5 before compaction).
for v in 1 2 3 4 5; do
  ctl put /registry/configmaps/ns/counter "count-$v" >/dev/null
done

# A key deleted for good (tombstone), and one deleted then re-created.
ctl put /registry/secrets/ns/doomed "short-lived" >/dev/null
ctl del /registry/secrets/ns/doomed >/dev/null
ctl put /registry/services/ns/phoenix "first-life" >/dev/null
ctl del /registry/services/ns/phoenix >/dev/null
ctl put /registry/services/ns/phoenix "second-life" >/dev/null

# Two leases: one with three keys attached, one bare.
lease_keys_hex="$(ctl lease grant 600 | awk '{print $2}')"
lease_bare_hex="$(ctl lease grant 3600 | awk '{print $2}')"
for k in a b c; do
  ctl put --lease="$lease_keys_hex" "/registry/leases/ns/holder-$k" "held-by-lease-$k" >/dev/null
done

compact_revision="$(revision)"
ctl compact "$compact_revision" --physical >/dev/null

# Writes after the compaction, including one value large enough for bbolt overflow pages.
ctl put /registry/configmaps/ns/counter "count-6" >/dev/null
ctl put /registry/pods/ns/p200 "pod-200-spec-v1" >/dev/null
ctl del /registry/pods/ns/p199 >/dev/null
big_value="$(for i in $(seq 0 3199); do printf 'blob-line-%05d-padding-0123456789\n' "$i"; done)"
big_value="${big_value:0:102400}"
ctl put /registry/blobs/ns/big -- "$big_value" >/dev/null
ctl put /registry/pods/ns/p000 "pod-000-spec-v2" >/dev/null

final_revision="$(revision)"
ctl snapshot save "$work/snapshot.db" >"$work/save.log" 2>&1 || { cat "$work/save.log" >&2; exit 1; }
ctl endpoint status -w json >"$work/status.json"
ctl get "" --from-key -w json >"$work/range.json"
ctl lease list -w json >"$work/leaseList.json"
ctl lease timetolive "$lease_keys_hex" --keys -w json >"$work/ttlKeys.json"
ctl lease timetolive "$lease_bare_hex" --keys -w json >"$work/ttlBare.json"

kill "$etcd_pid"
wait "$etcd_pid" 2>/dev/null || true
etcd_pid=""

"$etcdctl_bin" snapshot status "$work/snapshot.db" -w json >"$work/snapshotStatus.json"
cp "$work/snapshot.db" "$snapshot_out"
chmod 644 "$snapshot_out"
printf '%s' "$big_value" >"$work/big.value"

# Python, not jq: jq 1.6 rounds etcd's 64-bit ids (cluster, member, lease) through doubles.
# The big value is kept out of the JSON (it would dominate the fixture); its length and hash stand in.
python3 - "$work" "$expected_out" "$version" "$compact_revision" "$final_revision" \
  "$lease_keys_hex" "$lease_bare_hex" <<'PY'
import base64, hashlib, json, sys

work, out, version, compact, final, lease_keys_hex, lease_bare_hex = sys.argv[1:]

def load(name):
    with open(f"{work}/{name}.json") as f:
        return json.load(f)

with open(f"{work}/big.value", "rb") as f:
    big = f.read()
big_key = base64.b64encode(b"/registry/blobs/ns/big").decode()
status = load("status")
rng = load("range")
for kv in rng["kvs"]:
    if kv["key"] == big_key:
        kv["value"] = None

expected = {
    "etcdVersion": version,
    "compactRevision": int(compact),
    "finalRevision": int(final),
    "headerRevision": status[0]["Status"]["header"]["revision"],
    "leases": {
        "withKeysHex": lease_keys_hex,
        "bareHex": lease_bare_hex,
        "list": load("leaseList"),
        "withKeysTimeToLive": load("ttlKeys"),
        "bareTimeToLive": load("ttlBare"),
    },
    "bigValue": {"keyBase64": big_key, "length": len(big), "sha256": hashlib.sha256(big).hexdigest()},
    "endpointStatus": status,
    "range": rng,
    "snapshotStatus": load("snapshotStatus"),
}
with open(out, "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
PY

echo "wrote $snapshot_out ($(stat -c %s "$snapshot_out") bytes) and $expected_out"
