# opstatus: build, test and demo.
#
#   make demo    install what is missing, build, and query the local emulator
#                from C and from Python
#   make test    install what is missing, build, and run every test suite

SWIFT ?= swift
CC ?= cc
PYTHON ?= python3
BUILD := build

VERSION_MAJOR := $(shell sed -n 's/^\#define OPSTATUS_VERSION_MAJOR //p' include/opstatus.h)
SONAME := libopstatus.so.$(VERSION_MAJOR)

# -static-stdlib puts the Swift runtime inside the library, so hosts need
# no Swift toolchain; the version script exports only opstatus_* symbols.
SWIFT_RELEASE_FLAGS := -c release -Xswiftc -static-stdlib \
	-Xlinker --version-script=$(CURDIR)/exports.map -Xlinker -soname=$(SONAME)

C_FLAGS := -std=c99 -Wall -Wextra -pedantic -O2 -g -Iinclude
C_LIBS := -L$(BUILD) -lopstatus -ljansson -lcurl -lpthread -Wl,-rpath,'$$ORIGIN'

APT_PACKAGES := libjansson-dev libcurl4-openssl-dev pkg-config openssl valgrind
PIP_MODULES := pytest

WITH_EMULATOR := Tests/Emulator/with-emulator
VALGRIND := valgrind --quiet --leak-check=full --show-leak-kinds=definite \
	--errors-for-leak-kinds=definite --error-exitcode=1

.PHONY: all deps build examples test test-swift test-c test-python test-emulator \
	demo check-symbols clean

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
	$(SWIFT) build $(SWIFT_RELEASE_FLAGS)
	@mkdir -p $(BUILD)
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

examples: build $(BUILD)/opstatus-status $(BUILD)/test_capi

$(BUILD)/opstatus-status: bindings/c/opstatus-status.c include/opstatus.h $(BUILD)/libopstatus.so
	$(CC) $(C_FLAGS) -o $@ $< $(C_LIBS)

$(BUILD)/test_capi: bindings/c/tests/test_capi.c include/opstatus.h $(BUILD)/libopstatus.so
	$(CC) $(C_FLAGS) -o $@ $< $(C_LIBS)

test: build examples test-swift test-c test-python test-emulator

test-swift: deps
	$(SWIFT) test

# The C tests run under valgrind, which fails the run on a definite leak
# or a memory error.
test-c: examples
	$(WITH_EMULATOR) -- $(VALGRIND) $(BUILD)/test_capi
	$(WITH_EMULATOR) -- $(VALGRIND) $(BUILD)/opstatus-status demo shop-frontend 101

test-python: build
	$(PYTHON) -m pytest -q bindings/python/tests

test-emulator: deps
	$(PYTHON) -m pytest -q Tests/Emulator/test_emulator.py

demo: examples
	@$(WITH_EMULATOR) -- sh -c '\
	  echo "== C: $(BUILD)/opstatus-status demo shop-frontend 101"; \
	  $(BUILD)/opstatus-status demo shop-frontend 101 || exit 1; \
	  echo; \
	  echo "== Python: bindings/python/examples/status.py demo shop-frontend 101"; \
	  $(PYTHON) bindings/python/examples/status.py demo shop-frontend 101'

clean:
	rm -rf $(BUILD) .build
