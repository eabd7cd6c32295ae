# The commands people type. The build itself is CMake + CTest in $(BUILD).
#   make          build
#   make run      install what is missing, build, run the SGD-1 sample driver and its app on
#                 the default machine and print the run's summary (docs/samples.md)
#   make test     build and run every test
#   make bench    build and run the benchmarks
#   make docs     build, then regenerate the guided tour in docs/tour/ (scripts/make-tour.py)
#   make install PREFIX=/usr/local

BUILD   ?= build
PREFIX  ?= /usr/local
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
GEN     := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
CMAKE_FLAGS ?=

.PHONY: all build deps run test soak bench docs install clean format

all: build

deps:
	@./scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: deps build
	./$(BUILD)/wdmsim run --machine machines/default.ini \
		--app $(BUILD)/drivers/sgdisk_app.so $(BUILD)/drivers/sgdisk.so

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# Longer runs of the randomised tests: 1,000 crash points in hive flushes,
# a minute per fuzz target, five minutes of random DMA-sample traffic.
soak: build
	WDMSIM_CRASH_ROUNDS=1000 WDMSIM_FUZZ_SECONDS=60 WDMSIM_SOAK_SECONDS=300 WDMSIM_SOAK_OPS=400 WDMSIM_POOL_BUG_SEEDS=20000 WDMSIM_POOL_STRESS_SEEDS=40 ctest --test-dir $(BUILD) --output-on-failure -R "hive|fuzz|soak|pool_bugs|pool_stress"

bench: build
	@for b in $(BUILD)/bench/bench_*; do [ -x "$$b" ] && "$$b" || exit 1; done

# The tour runs every command it shows and captures the real output.
docs: build
	python3 scripts/make-tour.py $(BUILD)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
