# tests/fuzz/fuzz.mk - libFuzzer harnesses for the stages (included by the Makefile).
#
#   make fuzz                      build, make seeds, run each harness FUZZ_SECONDS (default 60)
#   make fuzz FUZZ_SECONDS=600     longer
#   make fuzz-build                only build build/fuzz/fuzz_parse and build/fuzz/fuzz_validate
#   make fuzz FUZZ_TARGETS=parse   one harness
#   make fuzz FUZZ_FORK=2          libFuzzer's fork mode on 2 processes, going on after
#                                  crashes and timeouts (each one saved as an artifact)
#   build/fuzz/fuzz_parse CRASHFILE   reproduce (from the repository root)
#
# The stages are compiled again with clang (-fsanitize=fuzzer-no-link,address,
# undefined) into build/fuzz/stages/: the gcc objects of build/ are not reused.
# Everything lives under build/fuzz/ (ignored by git, removed by make clean):
# corpora grow in build/fuzz/corpus/NAME (kept between runs; seeds from
# tests/fuzz/make_seeds.sh in build/fuzz/seeds/NAME); crashes, timeouts and
# leaks are written to build/fuzz/artifacts/NAME-*; logs to build/fuzz/logs/.  After each run the summary
# line gives executions and libFuzzer's cov: (edges) and ft: (features).
# Needs clang and libclang-rt-dev (libFuzzer); `make fuzz-deps` installs them.

FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
FUZZ_TARGETS  ?= parse validate
FUZZ_FORK     ?= 0
FUZZ_FLAGS    ?=
FUZZ_B        := build/fuzz
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS   := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Wall -Wextra \
                 -Istages $(shell pkg-config --cflags libxml-2.0 2>/dev/null) $(FUZZ_SAN)
FUZZ_LIBS     := -lxml2 -lcrypto -lm
FUZZ_STAGE_OBJ := $(patsubst stages/%.c,$(FUZZ_B)/stages/%.o,$(wildcard stages/*.c))
FUZZ_MAXLEN_parse    := 65536
FUZZ_MAXLEN_validate := 8256

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-deps fuzz-clean
# the clang objects are not intermediate files: keep them between builds
.SECONDARY: $(FUZZ_STAGE_OBJ)

fuzz-deps:
	@command -v $(FUZZ_CC) >/dev/null && ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  v=$$(apt-cache search --names-only '^libclang-rt-[0-9]+-dev$$' | sed -E 's/^libclang-rt-([0-9]+)-dev.*/\1/' | sort -n | head -n 1); \
	  echo "installing clang and libclang-rt-$$v-dev"; \
	  $$SUDO apt-get install -y clang libclang-rt-$$v-dev; }

$(FUZZ_B)/stages/%.o: stages/%.c $(wildcard stages/*.h)
	@mkdir -p $(dir $@)
	@echo "  CLANG   $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_STAGE_OBJ)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_STAGE_OBJ) $(FUZZ_LIBS)

fuzz-build: fuzz-deps $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%)

$(FUZZ_B)/seeds/.done: tests/fuzz/make_seeds.sh tests/hostile/make_corpus.sh tests/hostile/corpus.py | $(B)/bench/gencsr
	@SMKI_BENCH=$(CURDIR)/$(B)/bench tests/fuzz/make_seeds.sh $(FUZZ_B)/seeds
	@touch $@
fuzz-seeds: $(FUZZ_B)/seeds/.done

# run each harness for FUZZ_SECONDS; the last lines of its log are the summary
fuzz: fuzz-build fuzz-seeds
	@mkdir -p $(FUZZ_B)/artifacts $(FUZZ_B)/logs
	@fail=0; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_B)/corpus/$$t; \
	  case $$t in parse) ml=$(FUZZ_MAXLEN_parse);; *) ml=$(FUZZ_MAXLEN_validate);; esac; \
	  log=$(FUZZ_B)/logs/$$t-$$(date +%Y%m%d-%H%M%S).log; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS) s (log $$log)"; touch $$log.start; \
	  fork=; [ "$(FUZZ_FORK)" -gt 0 ] && fork="-fork=$(FUZZ_FORK) -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1"; \
	  ./$(FUZZ_B)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=$$ml -timeout=10 -rss_limit_mb=4096 \
	    -print_final_stats=1 $$fork -artifact_prefix=$(FUZZ_B)/artifacts/$$t- $(FUZZ_FLAGS) \
	    $(FUZZ_B)/corpus/$$t $(FUZZ_B)/seeds/$$t >$$log 2>&1; rc=$$?; \
	  last=$$(grep -aE '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' $$log | tail -n 1); \
	  execs=$$(grep -a 'stat::number_of_executed_units' $$log | awk '{s += $$2} END {print s + 0}'); \
	  [ "$$execs" -gt 0 ] || execs=$$(echo "$$last" | sed -nE 's/^#([0-9]+).*/\1/p'); \
	  cov=$$(echo "$$last" | sed -nE 's/.*cov: ([0-9]+).*/\1/p'); \
	  ft=$$(echo "$$last" | sed -nE 's/.*ft: ([0-9]+).*/\1/p'); \
	  corp=$$(echo "$$last" | sed -nE 's/.*corp: ([0-9]+(\/[0-9a-zA-Z]+)?).*/\1/p'); \
	  new=$$(find $(FUZZ_B)/artifacts -name "$$t-*" -newer $$log.start 2>/dev/null | sort); \
	  echo "fuzz_$$t: exit $$rc, $$execs executions, cov: $$cov ft: $$ft corp: $$corp, new artifacts: $$(echo $$new | wc -w)"; \
	  if [ $$rc -ne 0 ] || [ -n "$$new" ]; then fail=1; \
	    grep -aE '^==[0-9]+==ERROR|^SUMMARY|^fuzz_(parse|validate): ' $$log | sort | uniq -c | sort -rn | head -n 6 | sed 's/^/    /'; \
	    for a in $$new; do \
	      echo "    $$a: $$(timeout 60 ./$(FUZZ_B)/fuzz_$$t $$a 2>&1 | grep -aE '^fuzz_(parse|validate): |^SUMMARY|ALARM: working on' | head -n 1)"; \
	    done; fi; \
	done; exit $$fail

fuzz-clean:
	rm -rf $(FUZZ_B)
