# The two commands: `make run` and `make test`. Each installs what is missing, builds, then runs.
PRESET ?= release
BUILD_DIR := build/$(PRESET)
CMAKE ?= cmake
RUN_ARGS ?= demo

.PHONY: all deps configure build run test test-asan test-tsan bench interop clean help

all: build

help:
	@echo "make run        install what is missing, build, start 'twinstar $(RUN_ARGS)'"
	@echo "make test       install what is missing, build, run every test"
	@echo "make test-asan  unit and concurrency tests under AddressSanitizer + UBSan"
	@echo "make test-tsan  unit and concurrency tests under ThreadSanitizer"
	@echo "make bench      build and run the benchmarks"
	@echo "make interop    read the candle store with polars and compare it with twinstar's export"

# The install script is cheap when nothing is missing (dpkg-query + a stamp file).
deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: CMakeLists.txt CMakePresets.json | deps
	@$(CMAKE) --preset $(PRESET) >/dev/null

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	@$(CMAKE) --build --preset $(PRESET)

run: build
	$(BUILD_DIR)/twinstar $(RUN_ARGS)

test: build
	ctest --preset $(PRESET)

test-asan:
	@$(MAKE) --no-print-directory PRESET=asan build
	ctest --preset asan

test-tsan:
	@$(MAKE) --no-print-directory PRESET=tsan build
	ctest --preset tsan

bench: build
	@for b in $(BUILD_DIR)/bench/*/*_bench; do echo "== $$b"; $$b; done

interop: build
	scripts/interop-polars.sh

clean:
	rm -rf build
