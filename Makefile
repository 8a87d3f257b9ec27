# spanhouse build. `make` builds build/spanhouse; `make test` runs every test
# (plain and sanitizer builds); `make run` starts the server; `make fuzz` builds
# the libFuzzer targets. SAN=address,undefined selects a sanitizer build in its
# own directory so the two never mix objects.

CC       ?= cc
SAN      ?=
MODULES  := base storage catalog engine query ingest
PKGS     := liburing libzstd liblz4 libxxhash libprotobuf-c sqlite3 libnghttp2 libcurl zlib

ifeq ($(SAN),)
BUILD    := build
SANFLAGS :=
else
BUILD    := build/san
SANFLAGS := -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all -DSPANHOUSE_SAN=1
endif

WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wstrict-prototypes -Wmissing-prototypes
CFLAGS   := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -I. -I$(BUILD)/gen -MMD -MP $(SANFLAGS) $(EXTRA_CFLAGS)
LDLIBS   := -lmimalloc $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
LDFLAGS  := $(SANFLAGS)

MOD_SRC  := $(wildcard $(addsuffix /*.c,$(MODULES)))
# OTLP protobuf code is generated from ingest/proto/*.proto at build time
# into $(BUILD)/gen (never committed); every object waits for the headers.
PROTO_SRC := $(wildcard ingest/proto/*.proto)
PROTO_H  := $(PROTO_SRC:%.proto=$(BUILD)/gen/%.pb-c.h)
PROTO_OBJ := $(PROTO_SRC:%.proto=$(BUILD)/gen/%.pb-c.o)
GEN_WARN := -Wno-missing-braces -Wno-missing-field-initializers
MOD_OBJ  := $(MOD_SRC:%.c=$(BUILD)/%.o) $(PROTO_OBJ)
BIN      := $(BUILD)/spanhouse
UNIT_SRC := $(wildcard tests/unit/*/*.c)
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
DEPS_OK  := $(BUILD)/.deps-ok

.PHONY: all test run fuzz clean deps check-deps unit replay
all: $(BIN)

$(DEPS_OK): tools/install-deps.sh
	@bash tools/install-deps.sh
	@mkdir -p $(BUILD) && touch $@

$(BUILD)/%.o: %.c | $(DEPS_OK) $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# Static pattern rules, so the generated files are explicit targets.
$(PROTO_H): $(BUILD)/gen/%.pb-c.h: %.proto | $(DEPS_OK)
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=. --c_out=$(BUILD)/gen $<

$(PROTO_H:.h=.c): $(BUILD)/gen/%.pb-c.c: $(BUILD)/gen/%.pb-c.h ;

$(PROTO_OBJ): $(BUILD)/gen/%.pb-c.o: $(BUILD)/gen/%.pb-c.c | $(PROTO_H)
	$(CC) $(CFLAGS) $(GEN_WARN) -c $< -o $@

$(BUILD)/libspanhouse.a: $(MOD_OBJ)
	@rm -f $@
	ar rcs $@ $^

# `spanhouse loadgen` and the trace generator it shares with spangen live in
# tools/, outside libspanhouse.a.
LOADGEN_OBJ := $(addprefix $(BUILD)/tools/,loadgen.o loadgen_body.o loadgen_http.o loadgen_grpc.o loadgen_tcp.o \
                 tracegen.o tracegen_otlp.o)

$(BIN): $(BUILD)/tools/spanhouse.o $(LOADGEN_OBJ) $(BUILD)/libspanhouse.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/libspanhouse.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit: $(UNIT_BIN)

# Corpus replay: each fuzz target linked with tests/fuzz/replay.c instead of
# libFuzzer, so `make test` re-runs every saved input under gcc and sanitizers.
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/tests/fuzz/%_replay)

$(BUILD)/tests/fuzz/%_replay: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/replay.o $(BUILD)/libspanhouse.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

replay: $(REPLAY_BIN)

# libFuzzer's entry point has no header to declare it.
$(BUILD)/tests/fuzz/%.o: CFLAGS += -Wno-missing-prototypes

deps: $(DEPS_OK)

# Runs the plain build's suite and the ASan+UBSan build's suite; the last line
# of output is the combined `N passed, N failed`.
test: $(DEPS_OK)
	@bash tests/run-all.sh

run: $(BIN)
	./$(BIN) server

# ---- fuzzing (clang + libFuzzer, ASan + UBSan) -------------------------------
FUZZ_BUILD := build/fuzz
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -I. -I$(FUZZ_BUILD)/gen -Wall -Wextra -Werror -Wno-unused-parameter \
              -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -DSPANHOUSE_SAN=1
FUZZ_PROTO_H   := $(PROTO_SRC:%.proto=$(FUZZ_BUILD)/gen/%.pb-c.h)
FUZZ_PROTO_OBJ := $(PROTO_SRC:%.proto=$(FUZZ_BUILD)/gen/%.pb-c.o)
FUZZ_OBJ   := $(MOD_SRC:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_PROTO_OBJ)

$(FUZZ_BUILD)/%.o: %.c | $(DEPS_OK) $(FUZZ_PROTO_H)
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -MMD -MP -c $< -o $@

$(FUZZ_PROTO_H): $(FUZZ_BUILD)/gen/%.pb-c.h: %.proto | $(DEPS_OK)
	@mkdir -p $(FUZZ_BUILD)/gen
	protoc-c --proto_path=. --c_out=$(FUZZ_BUILD)/gen $<

$(FUZZ_PROTO_H:.h=.c): $(FUZZ_BUILD)/gen/%.pb-c.c: $(FUZZ_BUILD)/gen/%.pb-c.h ;

$(FUZZ_PROTO_OBJ): $(FUZZ_BUILD)/gen/%.pb-c.o: $(FUZZ_BUILD)/gen/%.pb-c.c | $(FUZZ_PROTO_H)
	clang $(FUZZ_FLAGS) $(GEN_WARN) -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer $^ -o $@ -lmimalloc $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

fuzz: $(FUZZ_BIN)

# Keep the clang objects between runs: they are only pattern prerequisites,
# which make would otherwise delete as intermediates.
.SECONDARY: $(FUZZ_OBJ)

# ---- benchmark (bench/run.sh, docs/benchmarks.md) ----------------------------
# spangen generates the benchmark's spans; it is standalone (libc and libm) so
# the data set never moves with the server's code. tools/tracegen*.c are
# shared with `spanhouse loadgen`.
SPANGEN_SRC := tools/spangen.c tools/tracegen.c tools/tracegen_otlp.c
$(BUILD)/spangen: $(SPANGEN_SRC) tools/tracegen.h tools/tracegen_otlp.h
	@mkdir -p $(BUILD)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -o $@ $(SPANGEN_SRC) -lm

# Side by side with a private ClickHouse; BENCH_SPANS=N scales it.
.PHONY: bench
bench: $(BUILD)/spangen
	@bash bench/run.sh

check-deps:
	@bash tools/check-deps.sh

clean:
	rm -rf build

-include $(MOD_OBJ:.o=.d) $(UNIT_BIN:=.d) $(BUILD)/tools/spanhouse.d $(LOADGEN_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)
