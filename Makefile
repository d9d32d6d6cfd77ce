# saasedge build. `make` builds build/saasedge; see README.md for the other targets.

CC      ?= cc
PKGS    := openssl libcurl jansson sqlite3 libpq libmicrohttpd libidn2 libpsl inih libcares ldns libnghttp2
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wvla
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -pthread $(WARN) -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser -pthread -lm
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SRC      := $(shell find src -name '*.c' | sort)
# The dashboard's files (web/src and its one npm library) as a C source, made at build time.
GEN_SRC  := build/gen/dashboard_assets.c
WEB_SRC  := $(wildcard web/src/*)
WEB_LIB  := web/node_modules/htm/preact/standalone.module.js
LIB_SRC  := $(filter-out src/main.c,$(SRC)) $(GEN_SRC)
OBJ      := $(SRC:%.c=build/obj/%.o) $(GEN_SRC:%.c=build/obj/%.o)
LIB_OBJ  := $(LIB_SRC:%.c=build/obj/%.o)
SOBJ     := $(SRC:%.c=build/asan/obj/%.o) $(GEN_SRC:%.c=build/asan/obj/%.o)
SLIB_OBJ := $(LIB_SRC:%.c=build/asan/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=build/bench/%)
PYTHON  := /usr/bin/python3
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)
FUZZ_CFLAGS := $(filter-out -O2,$(CFLAGS)) -O1 -fsanitize=address,undefined
# Builds inside `make test` use every core: a plain `make test` (as CI runs it) would otherwise
# compile and link its ~300 objects and ~50 programs one at a time.
JOBS    := -j$(shell nproc)

.PHONY: all asan deps run test unit integration integration-asan fuzz fuzz-smoke bench bench-smoke integration-postgres deb package-test \
	integration-postgres-store clean format test-repeat
all: build/saasedge

build/saasedge: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(GEN_SRC): scripts/embed-dashboard $(WEB_SRC) $(WEB_LIB) docs/openapi.json
	$(PYTHON) scripts/embed-dashboard $@ web/src vendor/preact-htm.js=$(WEB_LIB) \
		openapi.json=docs/openapi.json

# Node is needed to build (npm ci of web/package-lock.json), never to run.
$(WEB_LIB): web/package.json web/package-lock.json
	@scripts/install-deps
	npm ci --prefix web --no-audit --no-fund
	@touch $@

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

asan: build/asan/saasedge

build/asan/saasedge: $(SOBJ)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LDLIBS)

build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -MMD -MP -c -o $@ $<

build/asan/tests/%: tests/unit/%.c $(SLIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LDLIBS) -lcmocka

build/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS)

# Fills a store through src/store for the start-up and list benchmarks, so it links the
# project's code.
build/bench/populate_store: bench/populate_store.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer targets (clang) for the parsers of outside input, linked with all of src but main.
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
# Prerequisites of a pattern rule only, so make would delete them as intermediates after each
# build, and the next `make fuzz` would compile them all again.
.SECONDARY: $(FUZZ_OBJ)

-include $(OBJ:.o=.d) $(SOBJ:.o=.d) $(FUZZ_OBJ:.o=.d)

# Installs the Debian packages the build, the tests and the benchmarks need. Idempotent: it
# touches the network only when a package is missing.
deps: tests/sdk/node_modules/.package-lock.json tests/browser/node_modules/.package-lock.json \
	$(WEB_LIB)
	@scripts/install-deps

# The official Cloudflare TypeScript SDK, driven against the real binary by tests/sdk.
tests/sdk/node_modules/.package-lock.json: tests/sdk/package.json tests/sdk/package-lock.json
	@scripts/install-deps
	npm ci --prefix tests/sdk --no-audit --no-fund

# puppeteer-core and axe-core, which drive Debian's Chromium in tests/integration/test_dashboard.py.
tests/browser/node_modules/.package-lock.json: tests/browser/package.json tests/browser/package-lock.json
	@scripts/install-deps
	npm ci --prefix tests/browser --no-audit --no-fund

run:
	@scripts/install-deps
	$(MAKE) all
	./build/saasedge serve --dev

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# The integration tests mostly wait on servers (issuance, timeouts, restarts), so pytest-xdist runs
# them in TEST_JOBS processes at once; each test starts its own servers on ports drawn from its
# worker's share of the pool (tests/integration/conftest.py). TEST_JOBS=0 runs them in one.
TEST_JOBS ?= 4
PYTEST  := $(PYTHON) -m pytest -q -n $(TEST_JOBS)

integration: all
	SAASEDGE_BIN=$(CURDIR)/build/saasedge $(PYTEST) tests/integration

integration-asan: asan
	SAASEDGE_BIN=$(CURDIR)/build/asan/saasedge SAASEDGE_ASAN=1 $(PYTEST) tests/integration

# The same suite with the store on PostgreSQL: the tests start their own cluster (initdb and
# pg_ctl in a temporary directory) and give each data directory a database of its own.
integration-postgres: all
	SAASEDGE_TEST_BACKEND=postgres SAASEDGE_BIN=$(CURDIR)/build/saasedge $(PYTEST) tests/integration

# Only the files whose subject is the store (not parsers, TLS and proxy hardening, DNS, mail, the
# SDKs' and the browser's view of the same API), for a quick check; `make test` runs them all.
PG_NOT_STORE := dns_hardening edge_smuggling edge_ssrf edge_tls_config email_hardening \
	security_plain_http auth_failures validation hostname_schema issuance_caa \
	issuance_tls_alpn sdk dashboard edge_proxy edge_h2 edge_drain
integration-postgres-store: all
	SAASEDGE_TEST_BACKEND=postgres SAASEDGE_BIN=$(CURDIR)/build/saasedge $(PYTEST) \
	  $(PG_NOT_STORE:%=--ignore=tests/integration/test_%.py) tests/integration

# The integration suite (or TESTS) N times in a row as `make test` runs it: both builds on
# SQLite, the release build on PostgreSQL; stops at the first failure. A flaky test is a defect:
# run new or changed tests this way before they land.
N ?= 20
TESTS ?= tests/integration
test-repeat: all asan
	@set -e; for i in $$(seq 1 $(N)); do echo "== run $$i of $(N)"; \
	  SAASEDGE_BIN=$(CURDIR)/build/saasedge $(PYTEST) -x $(TESTS); \
	  SAASEDGE_BIN=$(CURDIR)/build/asan/saasedge SAASEDGE_ASAN=1 $(PYTEST) -x $(TESTS); \
	  SAASEDGE_TEST_BACKEND=postgres SAASEDGE_BIN=$(CURDIR)/build/saasedge $(PYTEST) -x \
	    $(TESTS); \
	done

# The Debian package (build/saasedge_<version>_<arch>.deb): binary, systemd unit, conffile.
deb: all
	scripts/make-deb

# Installs that package here with dpkg (root or sudo), runs the unit's command line, purges it.
package-test: all
	$(PYTHON) -m pytest -q tests/package

test: deps
	$(MAKE) $(JOBS) all asan
	$(MAKE) $(JOBS) $(UNIT_BIN) $(FUZZ_BIN) $(BENCH_BIN)
	$(MAKE) unit
	$(MAKE) fuzz-smoke
	$(MAKE) integration
	$(MAKE) integration-asan
	$(MAKE) integration-postgres
	$(MAKE) package-test
	$(MAKE) bench-smoke

# FUZZ_SECONDS (and at most FUZZ_RUNS executions) per target of FUZZ_TARGETS (all by default);
# corpora grow in build/fuzz/corpus, seeds stay in tests/fuzz/corpus, and seeds holding private
# keys are made at fuzz time in build/fuzz/seeds (tests/fuzz/make-seeds).
FUZZ_SECONDS ?= 300
FUZZ_RUNS ?= -1
FUZZ_TARGETS ?= $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
fuzz: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
	@tests/fuzz/make-seeds build/fuzz/seeds
	@set -e; for n in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$n build/fuzz/seeds/$$n; \
	  echo "== fuzz_$$n ($(FUZZ_SECONDS) s)"; \
	  build/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -runs=$(FUZZ_RUNS) \
	    -print_final_stats=1 build/fuzz/corpus/$$n tests/fuzz/corpus/$$n build/fuzz/seeds/$$n; \
	done

# Each target built and run briefly on its corpus: that it builds, starts and survives its seeds
# (long runs are `make fuzz`).
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=3

bench: all $(BENCH_BIN)
	bench/run-all

bench-smoke: all $(BENCH_BIN)
	BENCH_SMOKE=1 bench/run-all

format:
	clang-format -i $(SRC) $(shell find src -name '*.h') $(UNIT_SRC)

clean:
	rm -rf build
