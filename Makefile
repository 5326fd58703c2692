# crest - checkpoint/restore for Linux processes.
#   make          build libcrest, the crest CLI
#   make check    build (also with ASan/UBSan) and run every test
#   make demo     crestd runs the seed's counter; checkpoint, kill, restore it
#   make bench    dump throughput beside this machine's limits
# Missing Debian build dependencies are installed by scripts/deps.sh.

CC      ?= cc
BUILD   ?= build
SAN     ?=
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wundef -Wpointer-arith \
           -Wcast-align -Wstrict-prototypes -Wmissing-prototypes -Wvla \
           -Wno-missing-field-initializers
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Ilib -Irestorer -Idaemon -I$(BUILD)/gen -fno-strict-aliasing
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
LIBS    := -lxxhash -ljson-c -lzstd

LIB_SRC := $(wildcard lib/*.c)
CLI_SRC := $(wildcard cli/*.c)
DAEMON_SRC := $(wildcard daemon/*.c)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TARGET_SRC := $(wildcard tests/targets/*.c)
TARGET_BIN := $(TARGET_SRC:tests/targets/%.c=$(BUILD)/targets/%)

all: deps-ok $(BUILD)/crest $(BUILD)/crestd $(BUILD)/libcrest.so

# The restorer: freestanding, position-independent code that runs inside
# the process being restored.  Built without the sanitizers or any libc,
# linked flat (entry first), checked to need no relocations, and embedded
# into libcrest as a generated header.
RST_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -nostdlib -fpie \
              -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables \
              -fno-jump-tables -fno-builtin -mno-sse -mno-mmx -mno-avx -fcf-protection=none -Irestorer
$(BUILD)/restorer/restorer.o: restorer/restorer.c restorer/restorer.h
	@mkdir -p $(dir $@)
	$(CC) $(RST_CFLAGS) -c $< -o $@
$(BUILD)/restorer/restorer.bin: $(BUILD)/restorer/restorer.o restorer/restorer.lds
	ld -nostdlib -static -pie --no-dynamic-linker -T restorer/restorer.lds $< -o $(@:.bin=.elf)
	@if readelf -r $(@:.bin=.elf) | grep -q 'Relocation section'; then \
		echo "restorer: the blob needs relocations; it must be position-independent" >&2; exit 1; fi
	objcopy -O binary $(@:.bin=.elf) $@
$(BUILD)/gen/restorer_blob.h: $(BUILD)/restorer/restorer.bin
	@mkdir -p $(dir $@)
	{ echo '/* generated from restorer/restorer.c: do not edit */'; \
	  echo 'static const unsigned char crest_restorer_blob[] = {'; \
	  od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; \
	  echo 'static const unsigned long crest_restorer_blob_len = sizeof(crest_restorer_blob);'; } > $@
$(BUILD)/lib/restore.o: $(BUILD)/gen/restorer_blob.h

.PHONY: all deps deps-ok check unit integration demo bench clean
deps:
	@scripts/deps.sh
deps-ok:
	@scripts/deps.sh --quiet

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -fPIC -fvisibility=hidden -c $< -o $@

$(BUILD)/libcrest.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	ar rcs $@ $^

$(BUILD)/libcrest.so: $(LIB_OBJ) lib/libcrest.map
	$(CC) -shared -Wl,--version-script=lib/libcrest.map -Wl,-soname,libcrest.so.0 $(LDFLAGS) -o $@ $(LIB_OBJ) $(LIBS)

$(BUILD)/crest: $(CLI_OBJ) $(BUILD)/libcrest.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libcrest.a $(LIBS)

$(BUILD)/crestd: $(DAEMON_OBJ) $(BUILD)/libcrest.a
	$(CC) $(LDFLAGS) -pthread -o $@ $(DAEMON_OBJ) $(BUILD)/libcrest.a -linih $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcrest.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcrest.a -lcmocka $(LIBS)

# Test targets are built without sanitizers: they are the processes crest dumps.
build/targets/%: tests/targets/%.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $< -pthread $(if $(findstring static,$*),-static,)

targets: $(TARGET_SRC:tests/targets/%.c=build/targets/%)

BENCH_SRC := $(wildcard bench/*.c)
build/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $< -pthread

unit: deps-ok $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# Everything, twice for the unit tests: plain and with ASan/UBSan.  The
# integration tests drive the sanitizer build of the CLI against real
# processes.
check: deps-ok
	$(MAKE) all targets
	$(MAKE) unit
	$(MAKE) BUILD=build/san SAN=1 build/san/crest build/san/crestd unit
	CREST=build/san/crest TARGETS=build/targets tests/integration/run.sh
	CREST=build/san/crest CRESTD=build/san/crestd TARGETS=build/targets tests/integration/crestd.sh

integration: all targets
	CREST=$(BUILD)/crest TARGETS=build/targets tests/integration/run.sh
	CREST=$(BUILD)/crest CRESTD=$(BUILD)/crestd TARGETS=build/targets tests/integration/crestd.sh

demo: all targets
	scripts/demo.sh

bench: all targets $(BENCH_SRC:bench/%.c=build/bench/%)
	bench/bench.sh

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(DAEMON_OBJ:.o=.d)
