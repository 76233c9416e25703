# Build workload for scripts/bench: compiles every C file of SRC with gcc -O2 into OUT, as a
# parallel build of a small C project does (make, the gcc driver, cc1 and as for each file).
# scripts/bench runs it as `make -B -s -j N -f build.mk SRC=DIR OUT=DIR`: -B rebuilds every
# object each time, so every run does the same work. OUT is created when missing (under an
# enforcing sandtrace run it lives in the sandbox's private /tmp).
SRC ?= tests/helpers
OUT ?= /tmp/sandtrace-bench-build
OBJ := $(patsubst $(SRC)/%.c,$(OUT)/%.o,$(wildcard $(SRC)/*.c))

all: $(OBJ)

$(OUT)/%.o: $(SRC)/%.c | $(OUT)
	gcc -O2 -pthread -c $< -o $@

$(OUT):
	mkdir -p $@

.PHONY: all
