# opstatus: build, test and demo.
#
#   make demo    install what is missing, build, and query the local emulator
#                from C and from Python
#   make test    install what is missing, build, and run every test suite

SWIFT ?= swift
CC ?= cc
CXX ?= c++
SWIFT_CLANG ?= $(dir $(shell command -v $(SWIFT)))clang
PYTHON ?= python3
BUILD := build

version_part = $(shell sed -n 's/^\#define OPSTATUS_VERSION_$(1) //p' include/opstatus.h)
VERSION_MAJOR := $(call version_part,MAJOR)
VERSION := $(VERSION_MAJOR).$(call version_part,MINOR).$(call version_part,PATCH)
SONAME := libopstatus.so.$(VERSION_MAJOR)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

# -static-stdlib puts the Swift runtime inside the library, so hosts need
# no Swift toolchain; the version script exports only opstatus_* symbols.
# The emitted header declares the exported functions as Swift sees them,
# for the test that compares them with include/opstatus.h.
SWIFT_RELEASE_FLAGS := -c release -Xswiftc -static-stdlib \
	-Xlinker --version-script=$(CURDIR)/exports.map -Xlinker -soname=$(SONAME) \
	-Xswiftc -emit-clang-header-path -Xswiftc $(CURDIR)/$(BUILD)/opstatus-swift.h

C_FLAGS := -std=c99 -Wall -Wextra -pedantic -O2 -g -Iinclude
C_LIBS := -L$(BUILD) -lopstatus -ljansson -lcurl -lpthread -Wl,-rpath,'$$ORIGIN'

APT_PACKAGES := libjansson-dev libcurl4-openssl-dev pkg-config openssl valgrind
PIP_MODULES := pytest wheel

WITH_EMULATOR := Tests/Emulator/with-emulator
# .valgrindrc adds the suppression of one Swift runtime report.
VALGRIND := valgrind --quiet --leak-check=full --error-exitcode=1

.PHONY: all deps build examples test test-swift test-c test-python test-emulator \
	test-header test-install test-wheel test-fuzz fuzz check-asan check-tsan demo \
	check-symbols install uninstall wheel bench clean

all: build

# Installs the Debian packages and Python modules that are missing.
deps:
	@missing=""; for package in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" \
	    || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@for module in $(PIP_MODULES); do \
	  $(PYTHON) -c "import $$module" 2>/dev/null \
	    || $(PYTHON) -m pip install --quiet $$module; \
	done

build: deps
	@mkdir -p $(BUILD)
	$(SWIFT) build $(SWIFT_RELEASE_FLAGS)
	cp "$$($(SWIFT) build $(SWIFT_RELEASE_FLAGS) --show-bin-path)/libopstatus.so" $(BUILD)/libopstatus.so.tmp
	mv -f $(BUILD)/libopstatus.so.tmp $(BUILD)/libopstatus.so
	ln -sf libopstatus.so $(BUILD)/$(SONAME)
	@$(MAKE) --no-print-directory check-symbols

# Fails when the library exports anything but opstatus_* or needs a Swift
# library at run time.
check-symbols:
	@extra=$$(nm -D --defined-only $(BUILD)/libopstatus.so | awk '{print $$3}' | grep -v '^opstatus_' || true); \
	if [ -n "$$extra" ]; then echo "unexpected exported symbols:"; echo "$$extra"; exit 1; fi
	@if ldd $(BUILD)/libopstatus.so | grep -q libswift; then \
	  echo "libopstatus.so needs a Swift library at run time:"; ldd $(BUILD)/libopstatus.so; exit 1; fi
	@echo "libopstatus.so exports only opstatus_* symbols and needs no Swift library"

examples: build $(BUILD)/opstatus-status $(BUILD)/opstatus-purge $(BUILD)/test_capi \
	$(BUILD)/test_resilience $(BUILD)/test_error_paths $(BUILD)/test_extreme $(BUILD)/test_threads

STATUS_TABLE := bindings/c/status_table.c bindings/c/status_table.h

$(BUILD)/opstatus-status: bindings/c/opstatus-status.c $(STATUS_TABLE) include/opstatus.h $(BUILD)/libopstatus.so
	$(CC) $(C_FLAGS) -o $@ $(filter %.c,$^) $(C_LIBS)

$(BUILD)/opstatus-purge: bindings/c/opstatus-purge.c $(STATUS_TABLE) include/opstatus.h $(BUILD)/libopstatus.so
	$(CC) $(C_FLAGS) -o $@ $(filter %.c,$^) $(C_LIBS)

$(BUILD)/many_at_once: benchmarks/many_at_once.c include/opstatus.h $(BUILD)/libopstatus.so
	$(CC) $(C_FLAGS) -o $@ $< $(C_LIBS)

$(BUILD)/test_capi: bindings/c/tests/test_capi.c include/opstatus.h $(BUILD)/libopstatus.so
	$(CC) $(C_FLAGS) -o $@ $< $(C_LIBS)

$(BUILD)/test_resilience: bindings/c/tests/test_resilience.c include/opstatus.h $(BUILD)/libopstatus.so
	$(CC) $(C_FLAGS) -o $@ $< $(C_LIBS)

TEST_SUPPORT := bindings/c/tests/test_support.c bindings/c/tests/test_support.h

$(BUILD)/test_%: bindings/c/tests/test_%.c $(TEST_SUPPORT) include/opstatus.h $(BUILD)/libopstatus.so
	$(CC) $(C_FLAGS) -o $@ $(filter %.c,$^) $(C_LIBS)

test: build examples test-header test-swift test-c test-python test-emulator test-install \
	test-wheel test-fuzz

test-swift: deps
	$(SWIFT) test

# The C tests run under valgrind, which fails the run on a definite leak
# or a memory error.
test-c: examples
	$(WITH_EMULATOR) -- $(VALGRIND) $(BUILD)/test_capi
	$(WITH_EMULATOR) -- $(VALGRIND) $(BUILD)/opstatus-status demo shop-frontend 101
	$(WITH_EMULATOR) -- $(VALGRIND) $(BUILD)/test_resilience
	OPSTATUS_EMULATOR_P12_PASSWORD=$$(head -c 18 /dev/urandom | base64 | tr '+/' '-_') \
	  $(WITH_EMULATOR) --mtls -- $(VALGRIND) $(BUILD)/test_resilience --mtls
	$(WITH_EMULATOR) --op-duration 1 -- $(VALGRIND) $(BUILD)/opstatus-purge demo shop-frontend /images/logo.png
	$(WITH_EMULATOR) --op-duration 1 --scenario fail-site -- sh -c \
	  '$(VALGRIND) $(BUILD)/opstatus-purge demo shop-frontend /images/logo.png; test $$? -eq 3'
	$(WITH_EMULATOR) -- $(VALGRIND) $(BUILD)/test_error_paths
	$(WITH_EMULATOR) -- $(VALGRIND) $(BUILD)/test_extreme --items 1000
	$(WITH_EMULATOR) -- $(VALGRIND) $(BUILD)/test_threads --calls 50

test-python: build
	$(PYTHON) -m pytest -q bindings/python/tests

test-emulator: deps
	$(PYTHON) -m pytest -q Tests/Emulator/test_emulator.py

# The header compiles on its own as strict C99 and as C++; the library
# exports exactly the functions it declares; and the declarations the Swift
# compiler emits for the exported functions agree with it, type by type,
# since C rejects two declarations of one function with different types.
test-header: build
	$(CC) -std=c99 -Wall -Wextra -pedantic -Werror -fsyntax-only -x c include/opstatus.h
	$(CXX) -std=c++11 -Wall -Wextra -pedantic -Werror -fsyntax-only -x c++ include/opstatus.h
	$(PYTHON) Tests/Contract/check_exports.py include/opstatus.h $(BUILD)/libopstatus.so
	printf '#include "opstatus.h"\n#include "opstatus-swift.h"\n' > $(BUILD)/contract.c
	$(SWIFT_CLANG) -std=c11 -Wall -Wextra -Werror -fsyntax-only -Iinclude -I$(BUILD) \
	  -ISources/CJansson -ISources/COpStatusABI $(BUILD)/contract.c
	@echo "include/opstatus.h matches the exported functions"

# Installs the library, its soname and development links, the header and
# opstatus.pc under $(DESTDIR)$(PREFIX).
install: build
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(BUILD)/libopstatus.so $(DESTDIR)$(LIBDIR)/libopstatus.so.$(VERSION)
	ln -sf libopstatus.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libopstatus.so
	install -m 644 include/opstatus.h $(DESTDIR)$(INCLUDEDIR)/opstatus.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	  -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	  opstatus.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/opstatus.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/opstatus.pc
	@if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then ldconfig; fi

# Removes exactly what install put there.
uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libopstatus.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	  $(DESTDIR)$(LIBDIR)/libopstatus.so $(DESTDIR)$(INCLUDEDIR)/opstatus.h \
	  $(DESTDIR)$(PKGCONFIGDIR)/opstatus.pc
	@if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then ldconfig; fi

# Builds build/dist/opstatus-VERSION-py3-none-PLATFORM.whl with the library
# inside, from a copy of bindings/python so that the checkout stays clean.
wheel: build
	rm -rf $(BUILD)/wheel-src $(BUILD)/dist
	mkdir -p $(BUILD)/wheel-src
	cp -r bindings/python/opstatus bindings/python/pyproject.toml bindings/python/setup.py \
	  bindings/python/README.md $(BUILD)/wheel-src/
	find $(BUILD)/wheel-src -name __pycache__ -prune -exec rm -rf {} +
	cp $(BUILD)/libopstatus.so $(BUILD)/wheel-src/opstatus/$(SONAME)
	cd $(BUILD)/wheel-src && $(PYTHON) -m pip wheel --quiet --no-deps --no-build-isolation \
	  -w $(CURDIR)/$(BUILD)/dist .
	@ls $(BUILD)/dist/*.whl

# Installs the wheel into a fresh virtual environment and runs the opstatus
# command and the README's Python quick start against the emulator.
test-wheel: wheel
	Tests/Install/test-wheel

# Benchmarks against nginx and the emulator on loopback, side by side with
# a plain libcurl and jansson client, requests and f5xc-py-substrate; the
# results go to benchmarks/README.md. Not part of make test.
bench: examples
	benchmarks/run
	benchmarks/run-many-at-once

# Installs into a temporary DESTDIR, builds a program outside the tree with
# pkg-config alone, runs it against the emulator, and checks that uninstall
# leaves nothing behind.
test-install: build
	Tests/Install/test-install

# Shows the status of the emulator's seeded operation from C and Python,
# then purges a URL and waits with progress until every site has finished,
# again from C (opstatus-purge) and from Python (the opstatus command).
demo: examples
	@$(WITH_EMULATOR) --op-duration 4 -- sh -c '\
	  set -e; \
	  echo "== C: $(BUILD)/opstatus-status demo shop-frontend 101"; \
	  $(BUILD)/opstatus-status demo shop-frontend 101; \
	  echo; \
	  echo "== Python: bindings/python/examples/status.py demo shop-frontend 101"; \
	  $(PYTHON) bindings/python/examples/status.py demo shop-frontend 101; \
	  echo; \
	  echo "== C: $(BUILD)/opstatus-purge demo shop-frontend /images/logo.png"; \
	  $(BUILD)/opstatus-purge demo shop-frontend /images/logo.png; \
	  echo; \
	  echo "== Python: opstatus purge --namespace demo --name shop-frontend --url /index.html --hard --wait"; \
	  PYTHONPATH=bindings/python $(PYTHON) -m opstatus purge --namespace demo \
	    --name shop-frontend --url /index.html --hard --wait'

SWIFTC ?= $(dir $(shell command -v $(SWIFT)))swiftc
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_SECONDS ?= 300

# A short run of every libFuzzer target, seeds first, as part of make test.
test-fuzz: deps
	SWIFTC=$(SWIFTC) Tests/Fuzz/run --smoke $(FUZZ_SMOKE_SECONDS)

# Every fuzz target for FUZZ_SECONDS seconds (default 300).
fuzz: deps
	SWIFTC=$(SWIFTC) Tests/Fuzz/run $(FUZZ_SECONDS)

# The Swift tests and the C tests under AddressSanitizer, and the C tests
# under UndefinedBehaviorSanitizer too, against the emulator.
check-asan: deps
	SWIFT=$(SWIFT) Tests/Sanitizers/check-asan

# 8 threads sharing one client, 2,000 calls each, under ThreadSanitizer,
# then without it, checking that no thread got another thread's answer.
check-tsan: build
	SWIFT=$(SWIFT) CC=$(CC) Tests/Sanitizers/check-tsan

clean:
	rm -rf $(BUILD) .build .build-asan .build-tsan
