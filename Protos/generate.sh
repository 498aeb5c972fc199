#!/usr/bin/env bash
# Regenerates Sources/API/Generated/*.swift from the .proto files in Protos/.
#
# Usage (from anywhere):
#   Protos/generate.sh
#
# The generated code is committed; run this only after editing a .proto file,
# then build and run the APITests (WireFormatTests pin the wire format).
#
# Needs:
#   - protoc (Debian package protobuf-compiler; installed with apt-get when missing)
#   - protoc-gen-swift (swift-protobuf) and protoc-gen-grpc-swift-2 (grpc-swift-protobuf).
#     By default both are built in a throw-away SwiftPM package under
#     .build-protoc-plugins/ (gitignored) from the versions pinned below, so they
#     match the runtime libraries in Package.swift. The first build takes a few
#     minutes; later runs reuse it. To use plugins you already have, point these at them:
#       PROTOC_GEN_SWIFT=/path/to/protoc-gen-swift \
#       PROTOC_GEN_GRPC_SWIFT=/path/to/protoc-gen-grpc-swift-2 Protos/generate.sh
#
# We do not use the SwiftPM build plugin: it compiles a vendored C++ protoc
# (over 10 minutes on 2 cores) on every clean build.
set -euo pipefail

SWIFT_PROTOBUF_VERSION=1.39.0
GRPC_SWIFT_PROTOBUF_VERSION=2.4.1

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
protos="$root/Protos"
out="$root/Sources/API/Generated"
plugin_pkg="$root/.build-protoc-plugins"

if ! command -v protoc >/dev/null 2>&1; then
    echo "generate.sh: protoc not found, installing protobuf-compiler" >&2
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq protobuf-compiler
fi

build_plugins() {
    mkdir -p "$plugin_pkg"
    # Rewrite the manifest only when it changes, so later runs reuse the build.
    cat > "$plugin_pkg/Package.swift.new" <<SWIFT
// swift-tools-version: 6.1
// Written by Protos/generate.sh: builds the protoc plugins only.
import PackageDescription
let package = Package(
    name: "cairn-protoc-plugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "$SWIFT_PROTOBUF_VERSION"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "$GRPC_SWIFT_PROTOBUF_VERSION"),
    ],
    targets: []
)
SWIFT
    if cmp -s "$plugin_pkg/Package.swift.new" "$plugin_pkg/Package.swift"; then
        rm "$plugin_pkg/Package.swift.new"
    else
        mv "$plugin_pkg/Package.swift.new" "$plugin_pkg/Package.swift"
    fi
    # Build the products one by one: building the whole package would also
    # compile the vendored protoc.
    for product in protoc-gen-swift protoc-gen-grpc-swift-2; do
        echo "generate.sh: building $product (swift-protobuf $SWIFT_PROTOBUF_VERSION, grpc-swift-protobuf $GRPC_SWIFT_PROTOBUF_VERSION)" >&2
        swift build --package-path "$plugin_pkg" --product "$product" >&2
    done
}

if [ -z "${PROTOC_GEN_SWIFT:-}" ] || [ -z "${PROTOC_GEN_GRPC_SWIFT:-}" ]; then
    build_plugins
    bin="$(swift build --package-path "$plugin_pkg" --show-bin-path)"
    PROTOC_GEN_SWIFT="${PROTOC_GEN_SWIFT:-$bin/protoc-gen-swift}"
    PROTOC_GEN_GRPC_SWIFT="${PROTOC_GEN_GRPC_SWIFT:-$bin/protoc-gen-grpc-swift-2}"
fi
for plugin in "$PROTOC_GEN_SWIFT" "$PROTOC_GEN_GRPC_SWIFT"; do
    if [ ! -x "$plugin" ]; then
        echo "generate.sh: plugin $plugin is not an executable file" >&2
        exit 1
    fi
done

# Messages for every file; gRPC services only for the files that declare services.
message_files=(mvccpb/kv.proto leasepb/lease.proto authpb/auth.proto etcdserverpb/rpc.proto grpc/health/v1/health.proto cairnpb/internal.proto cairnpb/peer.proto)
service_files=(etcdserverpb/rpc.proto grpc/health/v1/health.proto cairnpb/peer.proto)

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT

cd "$protos"
protoc -I . \
    --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
    --swift_out="$staging" \
    --swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
    "${message_files[@]}"
protoc -I . \
    --plugin=protoc-gen-grpc-swift="$PROTOC_GEN_GRPC_SWIFT" \
    --grpc-swift_out="$staging" \
    --grpc-swift_opt=Visibility=Public,Client=true,Server=true,FileNaming=PathToUnderscores \
    "${service_files[@]}"

# Replace the whole directory so files of a removed .proto do not linger.
rm -rf "$out"
mkdir -p "$out"
cp "$staging"/*.swift "$out"/
echo "generate.sh: wrote $(ls "$out" | wc -l) files to ${out#"$root"/}" >&2
