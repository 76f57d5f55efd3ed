# h5lua -- Lua 5.4 with HDF5 bindings.  Every knob can be overridden:
#   make CC=clang CFLAGS=-O0 PREFIX=$HOME/.local
# `make test` and `make run` install missing Debian packages first (deps).

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build

CC ?= cc
OPT ?= -O2 -g
WARNINGS = -Wall -Wextra -Werror -Wshadow -Wundef -Wwrite-strings \
           -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith -Wformat=2
CFLAGS ?= $(OPT)
SANITIZE ?=
CPPFLAGS_ALL = -D_DEFAULT_SOURCE -DH5LUA_DATADIR='"$(PREFIX)/share/h5lua"'
# Deferred (=): evaluated when a recipe runs, i.e. after `deps` installed them.
LUA_CFLAGS = $(shell pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
LUA_LIBS = $(shell pkg-config --libs lua5.4 2>/dev/null || echo -llua5.4)
HDF5_CFLAGS = $(shell pkg-config --cflags hdf5 2>/dev/null || echo -I/usr/include/hdf5/serial)
HDF5_LIBS = $(shell pkg-config --libs hdf5 2>/dev/null || \
              echo -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5)
LZF_LIBS = -llzf
READLINE_LIBS = -lreadline
ALL_CFLAGS = -std=c11 $(CFLAGS) $(WARNINGS) $(SANITIZE) -fPIC -MMD -MP \
             $(CPPFLAGS_ALL) $(LUA_CFLAGS) $(HDF5_CFLAGS)

DEB_PACKAGES = pkg-config libhdf5-dev liblua5.4-dev lua5.4 lua-cjson lua-argparse \
               lua-filesystem lua-term lua-system lua-busted libreadline-dev liblzf-dev \
               hdf5-tools python3-h5py \
               python3-gemmi valgrind tmux time

HOST_SRC = $(wildcard host/*.c)
BIND_SRC = $(wildcard bindings/*.c)
HOST_OBJ = $(HOST_SRC:%.c=$(BUILD)/obj/%.o)
BIND_OBJ = $(BIND_SRC:%.c=$(BUILD)/obj/%.o)

H5LUA = $(BUILD)/h5lua
H5SO = $(BUILD)/h5.so
TESTFLAGS ?=

.PHONY: all deps test test-quick run bench asan asan-build valgrind fuzz install uninstall clean

all: $(H5LUA) $(H5SO)

$(H5LUA): $(HOST_OBJ) $(BIND_OBJ)
	$(CC) $(SANITIZE) -o $@ $^ $(LUA_LIBS) $(HDF5_LIBS) $(LZF_LIBS) $(READLINE_LIBS) -lm -ldl

$(H5SO): $(BIND_OBJ)
	$(CC) $(SANITIZE) -shared -o $@ $^ $(HDF5_LIBS) $(LZF_LIBS) -lm

$(BUILD)/obj/%.o: %.c Makefile | $(BUILD)/obj/host $(BUILD)/obj/bindings
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/host $(BUILD)/obj/bindings:
	mkdir -p $@

-include $(HOST_OBJ:.o=.d) $(BIND_OBJ:.o=.d)

# Installs only what is missing; apt-get update only when something is.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  case "$$(dpkg-query -W -f='$${Status}' $$p 2>/dev/null)" in \
	    "install ok installed") ;; \
	    *) missing="$$missing $$p" ;; \
	  esac; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null && \
	  echo "installed:$$missing"; \
	fi

# The whole suite inside build/h5lua, then again inside the ASan/UBSan build;
# ends with the combined line "N passed, N failed".
test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory asan-build
	tests/suite.sh $(TESTFLAGS)

# Without installing anything (for a developer loop).
test-quick: all
	$(H5LUA) tests/run.lua $(TESTFLAGS)

run: deps
	@$(MAKE) --no-print-directory all
	$(H5LUA) scripts/examples/pipeline.lua

bench: deps
	@$(MAKE) --no-print-directory all
	$(H5LUA) tests/bench/run.lua

# The suite again, built with AddressSanitizer and UBSan into build-asan/.
asan-build:
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=undefined" all

asan: deps asan-build
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86 \
	  UBSAN_OPTIONS=print_stacktrace=1:exitcode=86 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  H5LUA_BIN=$(CURDIR)/build-asan/h5lua build-asan/h5lua tests/run.lua $(TESTFLAGS)

# The suite under valgrind: any error or definite leak fails the run.  As the
# ASan pass, without the pure-Lua CIF parser specs, which reach no C.  One
# valgrind per spec file, one per CPU at a time (tests/valgrind.sh);
# VALGRIND_SPECS=... runs only those spec files.
valgrind: deps
	@$(MAKE) --no-print-directory all
	tests/valgrind.sh $(VALGRIND_SPECS)

# Coverage-guided fuzzing of file opening and walking (libFuzzer, ASan, UBSan).
# Findings land in build-fuzz/crashes/; FUZZ_SECONDS bounds the run.
FUZZ_SECONDS ?= 600
FUZZ_BIN = build-fuzz/fuzz_h5
$(FUZZ_BIN): $(BIND_SRC) tests/fuzz/fuzz_h5.c bindings/h5_internal.h Makefile
	mkdir -p build-fuzz
	clang -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	  $(CPPFLAGS_ALL) $(LUA_CFLAGS) $(HDF5_CFLAGS) -o $@ $(BIND_SRC) tests/fuzz/fuzz_h5.c \
	  $(LUA_LIBS) $(HDF5_LIBS) $(LZF_LIBS) -lm

fuzz: deps
	@$(MAKE) --no-print-directory all $(FUZZ_BIN)
	mkdir -p build-fuzz/corpus build-fuzz/crashes
	$(H5LUA) tests/fuzz/seeds.lua build-fuzz/seeds
	H5LUA_ROOT=$(CURDIR) ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
	  $(FUZZ_BIN) -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
	  -max_total_time=$(FUZZ_SECONDS) -timeout=20 -rss_limit_mb=4096 -max_len=65536 \
	  -artifact_prefix=build-fuzz/crashes/ \
	  build-fuzz/corpus build-fuzz/seeds $(wildcard ../shared/data/hdf5-samples) \
	  > build-fuzz/last-run.log 2>&1 || true
	@grep -E 'INFO: fuzzed for|SUMMARY: ' build-fuzz/last-run.log | sort | uniq -c
	@echo "findings in build-fuzz/crashes/: $$(ls build-fuzz/crashes | wc -l)"

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/h5lua \
	  $(DESTDIR)$(PREFIX)/lib/lua/5.4
	install -m 755 $(H5LUA) $(DESTDIR)$(PREFIX)/bin/h5lua
	install -m 644 $(H5SO) $(DESTDIR)$(PREFIX)/lib/lua/5.4/h5.so
	cd scripts && find . -type f -exec install -D -m 644 {} \
	  $(DESTDIR)$(PREFIX)/share/h5lua/{} \;

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/bin/h5lua $(DESTDIR)$(PREFIX)/share/h5lua \
	  $(DESTDIR)$(PREFIX)/lib/lua/5.4/h5.so

clean:
	rm -rf build build-asan build-fuzz
