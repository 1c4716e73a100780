# smki-batch - build, test, demo.
#   make            build build/smki-batch (installs missing Debian packages first)
#   make test       unit tests (cmocka) and end-to-end tests
#   make demo       a demo home, a sample batch, drained, results shown
#   make asan       the same build with AddressSanitizer + UBSan in build-asan/
#   make SANITIZE=thread test   ThreadSanitizer build in build-tsan/
#   make install    /usr/local/bin/smki-batch
#   make deps       install the Debian packages the build and tests need

DEB_PKGS := gcc make pkg-config libssl-dev openssl libxml2-dev libxml2-utils liburing-dev \
            libzstd-dev zstd zlib1g-dev librocksdb-dev libcmocka-dev libinih-dev gnutls-bin \
            python3 valgrind time

SANITIZE ?=
ifeq ($(SANITIZE),)
  B := build
  SANFLAGS :=
else ifeq ($(SANITIZE),thread)
  B := build-tsan
  SANFLAGS := -fsanitize=thread
else
  B := build-asan
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
endif

CC      ?= gcc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-format-truncation -fno-omit-frame-pointer \
           -pthread $(SANFLAGS) -Istages \
           $(shell pkg-config --cflags libxml-2.0 2>/dev/null)
LDFLAGS += -pthread $(SANFLAGS)
LDLIBS  := -lrocksdb -luring -lzstd -linih -lxml2 -lcrypto -lz -lm

STAGE_SRC := $(wildcard stages/*.c)
PIPE_SRC  := $(filter-out pipeline/main.c,$(wildcard pipeline/*.c))
TEST_SRC  := $(wildcard tests/unit/test_*.c)
BENCH_SRC := $(wildcard bench/*.c)

STAGE_OBJ := $(STAGE_SRC:%.c=$(B)/%.o)
PIPE_OBJ  := $(PIPE_SRC:%.c=$(B)/%.o)
TESTS     := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
BENCHES   := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

.PHONY: all deps test unit e2e demo asan tsan install clean bench tsan-tests valgrind-test
all: deps $(B)/smki-batch $(BENCHES)

# deps - install what is missing (apt-get needs root; CI runs as root)
deps: $(B)/.deps
$(B)/.deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update && $$SUDO apt-get install -y $$missing || exit 1; \
	fi
	@mkdir -p $(B) && touch $@

# a stage sees only stages/ headers; pipeline/ sees both
$(B)/stages/%.o: stages/%.c $(wildcard stages/*.h) | $(B)/.deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -Istages -c $< -o $@
$(B)/pipeline/%.o: pipeline/%.c $(wildcard stages/*.h pipeline/*.h) | $(B)/.deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -Ipipeline -c $< -o $@

# stages/ is a library of its own: a stage that reaches into pipeline/ fails to link
$(B)/libstages.a: $(STAGE_OBJ)
	@ar rcs $@ $^
$(B)/libpipeline.a: $(PIPE_OBJ)
	@ar rcs $@ $^

$(B)/smki-batch: $(B)/pipeline/main.o $(B)/libpipeline.a $(B)/libstages.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libpipeline.a $(B)/libstages.a
	@mkdir -p $(dir $@)
	@echo "  CC+LD   $@"
	@$(CC) $(CFLAGS) -Ipipeline -Itests/unit $(LDFLAGS) -o $@ $< $(B)/libpipeline.a $(B)/libstages.a $(LDLIBS) -lcmocka

$(B)/bench/%: bench/%.c $(B)/libstages.a
	@mkdir -p $(dir $@)
	@echo "  CC+LD   $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libstages.a $(LDLIBS)

unit: $(TESTS)
	@fail=0; for t in $(TESTS); do echo "== $$t"; $$t || fail=1; done; exit $$fail

e2e: $(B)/smki-batch $(BENCHES)
	@SMKI_BIN=$(CURDIR)/$(B)/smki-batch SMKI_BENCH=$(CURDIR)/$(B)/bench \
	  tests/e2e/run_all.sh $(E2E_TESTS)

# the README's test command: release build, then the same tests under
# AddressSanitizer + UBSan, the pipeline's tests under ThreadSanitizer, and
# valgrind memcheck on a small batch end to end
test: all unit e2e
	$(MAKE) SANITIZE=address unit e2e
	$(MAKE) SANITIZE=thread tsan-tests
	$(MAKE) valgrind-test

# the pipeline under ThreadSanitizer: the queues, and a whole batch
tsan-tests: export TSAN_OPTIONS = suppressions=$(CURDIR)/tests/tsan.supp
tsan-tests: $(B)/tests/test_chanq $(B)/smki-batch $(BENCHES)
	@echo "== $(B)/tests/test_chanq (ThreadSanitizer)"; $(B)/tests/test_chanq
	@SMKI_BIN=$(CURDIR)/$(B)/smki-batch SMKI_BENCH=$(CURDIR)/$(B)/bench \
	  tests/e2e/run_all.sh test_processing test_turn_order test_restart test_drain_provers

valgrind-test: all
	@tests/valgrind_small_batch.sh $(CURDIR)/$(B)

asan:
	$(MAKE) SANITIZE=address
tsan:
	$(MAKE) SANITIZE=thread

bench: all
	bench/run

demo: all
	ops/demo.sh $(CURDIR)/$(B)

install: all
	install -m 0755 $(B)/smki-batch /usr/local/bin/smki-batch
	install -d /usr/local/share/smki-batch/schemas
	install -m 0644 schemas/*.xsd /usr/local/share/smki-batch/schemas/

clean:
	rm -rf build build-asan build-tsan

# fuzzing (clang + libFuzzer): rules in tests/fuzz/fuzz.mk
-include tests/fuzz/fuzz.mk
