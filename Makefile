# The commands people type. The build itself is CMake + CTest in $(BUILD).
#   make          build
#   make run      install what is missing, build, run the demo on the default machine
#   make test     build and run every test
#   make bench    build and run the benchmarks
#   make install PREFIX=/usr/local

BUILD   ?= build
PREFIX  ?= /usr/local
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
GEN     := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
CMAKE_FLAGS ?=

.PHONY: all build deps run test soak bench install clean format

all: build

deps:
	@./scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: deps build
	./$(BUILD)/wdmsim run --machine machines/default.ini $(BUILD)/examples/hello.so

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# Longer runs of the randomised tests: 1,000 crash points in hive flushes,
# a minute per fuzz target.
soak: build
	WDMSIM_CRASH_ROUNDS=1000 WDMSIM_FUZZ_SECONDS=60 ctest --test-dir $(BUILD) --output-on-failure -R "hive|fuzz|soak"

bench: build
	@for b in $(BUILD)/bench/bench_*; do [ -x "$$b" ] && "$$b" || exit 1; done

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
