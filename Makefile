# cairn — build, test and run. Every target installs what it needs first, idempotently.

APT_PACKAGES := libzstd-dev libarchive-dev liblmdb-dev libssl-dev etcd-client curl
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT_BUILD_FLAGS ?=

.PHONY: deps build test run bench robustness fuzz clean

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
# cluster of MEMBERS (3 or 5) members, seed SEED (1), then the linearizability, durability and
# watch checks.
robustness: deps
	@case "$${MEMBERS:-3}" in 3) ;; 5) ;; *) echo "MEMBERS must be 3 or 5, not '$${MEMBERS}'" >&2; exit 2;; esac
	swift build $(SWIFT_BUILD_FLAGS) --build-tests
	size=$$([ "$${MEMBERS:-3}" = 5 ] && echo Five || echo Three); \
	CAIRN_ROBUSTNESS_SECONDS=$${DURATION:-600} CAIRN_ROBUSTNESS_SEED=$${SEED:-1} swift test $(SWIFT_BUILD_FLAGS) \
		--skip-build --disable-swift-testing --filter "RobustnessTests.test$${size}MembersUnderFaultsStayLinearizable"

# A long fuzz run (docs/robustness.md): ROUNDS requests (5000) with random and malformed fields
# to each fuzz test (every service; the Auth service with auth turned on and off), seed SEED (1).
fuzz: deps
	swift build $(SWIFT_BUILD_FLAGS) --build-tests
	CAIRN_FUZZ_ROUNDS=$${ROUNDS:-5000} CAIRN_FUZZ_SEED=$${SEED:-1} swift test $(SWIFT_BUILD_FLAGS) \
		--skip-build --disable-swift-testing --filter FuzzTests

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
