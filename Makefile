# cairn — build, test and run. Every target installs what it needs first, idempotently.

APT_PACKAGES := libzstd-dev libarchive-dev liblmdb-dev libssl-dev etcd-client curl
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT_BUILD_FLAGS ?=

.PHONY: deps build test run bench robustness clean

deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing apt packages:$$missing"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

# `--product cairn` and `--build-tests` skip the vendored protoc that a bare `swift build` would compile.
build: deps
	swift build $(SWIFT_BUILD_FLAGS) --product cairn

test: deps
	swift build $(SWIFT_BUILD_FLAGS) --build-tests
	swift test $(SWIFT_BUILD_FLAGS) --skip-build --disable-swift-testing

# A long robustness run (docs/robustness.md): DURATION seconds (600) of faults and clients on a
# 3-member cluster, seed SEED (1), then the linearizability, durability and watch checks.
robustness: deps
	swift build $(SWIFT_BUILD_FLAGS) --build-tests
	CAIRN_ROBUSTNESS_SECONDS=$${DURATION:-600} CAIRN_ROBUSTNESS_SEED=$${SEED:-1} swift test $(SWIFT_BUILD_FLAGS) \
		--skip-build --disable-swift-testing --filter RobustnessTests.testThreeMembersUnderKillsPausesAndLeaderMovesStayLinearizable

# A single-node member on 127.0.0.1:2379 (peer 127.0.0.1:2380) with its data in ./default.cairn,
# snapshotting itself into ./backups at start and then hourly (verified, catalogued, pruned).
run: build
	exec "$$(swift build $(SWIFT_BUILD_FLAGS) --show-bin-path)/cairn" server --name default --data-dir ./default.cairn \
		--snapshot-schedule @hourly --snapshot-dir ./backups --snapshot-on-start=true \
		--snapshot-retain-hourly 24 --snapshot-retain-daily 7 --snapshot-retain-weekly 4

# cairn bench against a release build of cairn and, when etcd is on PATH, etcd: one member
# under each workload, three members under puts, then memory and restart with data
# (docs/benchmarks.md). Results in .build-release/bench-*.md.
bench: deps
	bench/run.sh
	bench/cluster.sh
	bench/data.sh

clean:
	swift package clean
