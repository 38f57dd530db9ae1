# Thin wrapper over CMake. The two commands README.md promises:
#   make        install missing Debian packages, build everything, run the demo
#   make test   build with ASan+UBSan and run the whole test suite (ctest)
JOBS  ?= $(shell nproc)
BUILD ?= build
TEST_BUILD ?= build-test
WERROR ?= OFF
CMAKE_ARGS ?=

.PHONY: all deps build demo test test-deps clean install tsan fuzz-smoke werror

all: demo

deps:
	@sh scripts/install-deps.sh build

test-deps:
	@sh scripts/install-deps.sh test

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWIPEER_WERROR=$(WERROR) $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@sh scripts/demo.sh $(BUILD)

test: test-deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWIPEER_WERROR=$(WERROR) \
	  -DWIPEER_SANITIZE=address,undefined $(CMAKE_ARGS)
	cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --no-tests=error --output-on-failure -j $(JOBS)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) build-*
