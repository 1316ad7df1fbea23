# agentrun: an OCI runtime for AI agents and MCP servers.
#
#   make                build ./agentrun
#   make check          unit tests, then integration tests (root)
#   make check-asan     the same, built with AddressSanitizer and UBSan
#   make fuzz           each libFuzzer target for FUZZ_SECONDS (clang)
#   make fuzz-smoke     each target briefly, replaying its corpus (CI)
#   make install        PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
DATADIR ?= $(PREFIX)/share
# podman 4.3 reads containers.conf drop-ins from /etc only.
SYSCONFDIR ?= /etc
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libseccomp libcap jansson libnl-3.0 libnl-route-3.0 yaml-0.1 libcrypto libnftables libnetfilter_log \
        libnghttp2 libprotobuf-c ldns

# agentrun links only LIGHT_PKGS; agentrun-full links them all (see
# sandbox/binary.h).
LIGHT_PKGS := libseccomp libcap jansson yaml-0.1

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))
LIGHT_LIBS := $(shell $(PKG_CONFIG) --libs $(LIGHT_PKGS))

VERSION := 0.1.0
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror -Wformat=2 -Wformat-security -Wno-unused-parameter \
            -Wmissing-prototypes -Wstrict-prototypes -Wvla -Wimplicit-fallthrough
HARDENING := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
             -fcf-protection -fPIE
LDHARDENING := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack

ALL_CFLAGS := -std=gnu11 $(WARNINGS) $(HARDENING) $(CFLAGS) -Isandbox -I. $(PKG_CFLAGS) \
              -DAGENTRUN_VERSION='"$(VERSION)"' -DAGENTRUN_COMMIT='"$(COMMIT)"'
ALL_LDFLAGS := $(LDHARDENING) $(LDFLAGS)

# The SPIRE agent's gRPC messages: protoc-c generates their C code from
# spiffe/proto/*.proto at build time; the generated files are not in git.
PROTOC_C ?= protoc-c
PROTOS := $(wildcard spiffe/proto/*.proto)
PROTO_SRCS := $(PROTOS:.proto=.pb-c.c)
PROTO_HDRS := $(PROTOS:.proto=.pb-c.h)

LIB_SRCS := $(wildcard sandbox/oci/*.c) $(filter-out sandbox/main.c,$(wildcard sandbox/*.c)) \
            $(wildcard sandbox/net/*.c) $(wildcard policy/*.c) $(wildcard spiffe/*.c) \
            $(filter-out $(PROTO_SRCS),$(wildcard spiffe/proto/*.c)) $(PROTO_SRCS)
CLI_SRCS := $(wildcard sandbox/cli/*.c) sandbox/main.c
LIB_OBJS := $(LIB_SRCS:.c=.o)
CLI_OBJS := $(CLI_SRCS:.c=.o)
# The verbs that only agentrun-full has; sandbox/edition/light.c stands in.
FULL_CLI_OBJS := sandbox/cli/ca.o
EDITION_OBJS := sandbox/edition/light.o sandbox/edition/full.o
DEPS := $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(EDITION_OBJS:.o=.d)

# The exec trampoline: a freestanding static PIE that agentrun embeds and
# runs from a sealed memfd as the container's last exec (see
# sandbox/exec_guard.c).  It links no libc, so it cannot use the stack
# protector or _FORTIFY_SOURCE, and a call that the compiler emits to
# memcpy or memset fails the link.  Since no dynamic loader runs, it must
# contain no relocations, which its rule checks.  On other architectures
# agentrun has no trampoline and executes the command directly.
READELF ?= readelf
TRAMPOLINE_ARCH := $(filter x86_64-% aarch64-%,$(shell $(CC) -dumpmachine))
TRAMPOLINE := sandbox/init/trampoline
TRAMPOLINE_CFLAGS := -std=gnu11 $(WARNINGS) -Os -ffreestanding -fno-builtin -fno-stack-protector \
                     -fstack-clash-protection -fPIE -fno-asynchronous-unwind-tables \
                     $(if $(filter x86_64-%,$(TRAMPOLINE_ARCH)),-fcf-protection,-mbranch-protection=standard)
TRAMPOLINE_LDFLAGS := -nostdlib -static-pie -Wl,--no-dynamic-linker -Wl,-z,text \
                      -Wl,-z,noexecstack -Wl,--gc-sections -Wl,--build-id=none -s
ifneq ($(TRAMPOLINE_ARCH),)
LIB_OBJS += sandbox/init/trampoline_blob.o
endif

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:.c=)

.PHONY: all check check-unit check-integration check-cgroup2 check-asan fuzz fuzz-smoke fuzz-build bench demo \
        demo-podman demo-rootfs install clean

all: agentrun agentrun-full

# `make V=1` prints the full commands.
Q := $(if $(V:0=),,@)

# policy/ and its tests include libseccomp's <seccomp.h>, which a
# sandbox/seccomp.h would shadow under -Isandbox; -iquote keeps the
# project's headers reachable for #include "..." only.
policy/%.o tests/unit/test_policy%: ALL_CFLAGS := $(subst -Isandbox ,-iquote sandbox ,$(ALL_CFLAGS))

%.o: %.c
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# One run writes the .c and the .h; the .c stands for both.
spiffe/proto/%.pb-c.c: spiffe/proto/%.proto
	@$(if $(Q),echo "  PROTOC  $@")
	$(Q)$(PROTOC_C) --c_out=spiffe/proto -Ispiffe/proto $<

spiffe/proto/%.pb-c.h: spiffe/proto/%.pb-c.c
	@:

# The clients include the generated headers, which a clean tree lacks,
# and one generated file includes another's header.
spiffe/workload.o spiffe/delegated.o sandbox/workload_socket.o $(PROTO_SRCS:.c=.o): $(PROTO_HDRS)
.SECONDARY: $(PROTO_SRCS) $(PROTO_HDRS)

$(TRAMPOLINE): sandbox/init/trampoline.c sandbox/init/trampoline.h
	$(CC) $(TRAMPOLINE_CFLAGS) $(TRAMPOLINE_LDFLAGS) -o $@ $<
	@if $(READELF) -rW $@ | grep -q 'R_'; then \
	  echo "$@: the trampoline must not contain relocations, since nothing applies them" >&2; \
	  rm -f $@; exit 1; \
	fi

sandbox/init/trampoline_blob.o: sandbox/init/trampoline_blob.S $(TRAMPOLINE)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

libagentrun.a: $(LIB_OBJS)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

# agentrun looks for agentrun-full beside itself, then here.
sandbox/binary.o: ALL_CFLAGS += -DAGENTRUN_LIBEXECDIR='"$(LIBEXECDIR)/agentrun"'

# The archive lets the linker take only the objects that agentrun refers
# to: the network and identity objects stay out, and a reference to one of
# them fails the link on the missing libraries.
agentrun: $(CLI_OBJS) sandbox/edition/light.o libagentrun.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ sandbox/edition/light.o \
	  $(filter-out $(FULL_CLI_OBJS),$(CLI_OBJS)) libagentrun.a $(LIGHT_LIBS)

agentrun-full: $(CLI_OBJS) sandbox/edition/full.o libagentrun.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ sandbox/edition/full.o $(CLI_OBJS) libagentrun.a $(PKG_LIBS)

tests/unit/test_%: tests/unit/test_%.c tests/unit/unit.h libagentrun.a sandbox/edition/full.o
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< sandbox/edition/full.o libagentrun.a $(PKG_LIBS)

check-unit: $(UNIT_BINS)
	@tests/unit/run.sh $(UNIT_BINS)

check-integration: agentrun agentrun-full demo-rootfs
	@tests/integration/run.sh

# Unit tests, then integration tests with real containers (needs root).
check: agentrun agentrun-full $(UNIT_BINS) demo-rootfs
	@tests/run.sh

# The cgroup unit tests and a selection of the integration suite inside a
# throwaway guest with a pure cgroup v2 layout; a whole suite under its
# software emulation would take over an hour.  CG2_TESTS overrides the
# selection (patterns as tests/integration/run.sh takes them).
# cgroups/update_memory_live stays on the host: in the emulated guest its
# container's own shell loop sometimes ends under the 32 MiB limit.
CG2_TESTS ?= example/ lifecycle/run_exit_status lifecycle/kill_all lifecycle/delete_running_force \
             lifecycle/state_fields errors/failed_run_leaves_nothing namespaces/new_namespaces \
             namespaces/join_cgroup_namespace \
             cgroups/memory_limit_oom cgroups/pids_limit cgroups/cpu_fields cgroups/block_io \
             cgroups/pause_resume cgroups/delete_force_ cgroups/update_resources \
             cgroups/events_stats cgroups/kill_all_reaches cgroups/unsupported_fields \
             cgroups/cgroups_path_absolute cgroups/cgroups_path_relative cgroups/features \
             podman_cgroups/podman_memory podman_cgroups/podman_update podman_cgroups/podman_pause
SHARED ?= ../shared

# In the guest, podman import panicked ("page 111 already freed") on its
# copy of the host's blob-info cache, so the guest removes that copy from
# its RAM overlay first; the host's file stays as it is.
CG2_COMMAND = modprobe loop; rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb; \
	tests/unit/test_cgroup && tests/integration/run.sh $(CG2_TESTS)

check-cgroup2: agentrun agentrun-full tests/unit/test_cgroup
	$(SHARED)/vm/cg2-run.sh '$(CG2_COMMAND)'

# The guest's command, for .ci/run, which calls the guest script itself to
# see its exit status.
print-cg2-command:
	@echo '$(CG2_COMMAND)'

# --- sanitizer builds ---------------------------------------------------------
# Both build the library again into a folder of their own under build/,
# so their objects never mix with the ones above.  They drop HARDENING:
# _FORTIFY_SOURCE checks would hide the overflows that ASan reports.  The
# trampoline is the one built above, never instrumented: it links no libc,
# so it cannot carry a sanitizer's runtime.
SAN_INCLUDES = -Isandbox -I.
SAN_CFLAGS = -std=gnu11 $(WARNINGS) -O1 -g -fno-omit-frame-pointer $(SAN_INCLUDES) $(PKG_CFLAGS) \
             -DAGENTRUN_VERSION='"$(VERSION)"' -DAGENTRUN_COMMIT='"$(COMMIT)"'
build/fuzz/policy/%.o build/asan/policy/%.o build/asan/tests/unit/test_policy% \
  build/fuzz/fuzz_policy%: SAN_INCLUDES = -iquote sandbox -I.

# make check-asan: agentrun and the unit tests with AddressSanitizer (leaks
# included) and UBSan, built with CC, then the unit tests and the
# integration suite against build/asan/agentrun.  tests/asan.sh sets
# ASAN_OPTIONS and fails the run on any report of any process.
ASAN_DIR := build/asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
ASAN_CFLAGS = $(SAN_CFLAGS) $(ASAN_FLAGS)
ASAN_LIB_OBJS := $(addprefix $(ASAN_DIR)/,$(LIB_OBJS))
ASAN_UNIT_BINS := $(addprefix $(ASAN_DIR)/,$(UNIT_BINS))

$(ASAN_DIR)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ASAN_CFLAGS) -MMD -MP -c -o $@ $<

$(ASAN_DIR)/%.o: %.S $(TRAMPOLINE)
	@mkdir -p $(@D)
	$(Q)$(CC) $(SAN_CFLAGS) -c -o $@ $<

$(ASAN_DIR)/libagentrun.a: $(ASAN_LIB_OBJS)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

# The sanitizer build is one program with every part, as agentrun-full is.
$(ASAN_DIR)/agentrun: $(addprefix $(ASAN_DIR)/,$(CLI_OBJS)) $(ASAN_DIR)/sandbox/edition/full.o $(ASAN_DIR)/libagentrun.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ASAN_CFLAGS) -pie $(LDFLAGS) -o $@ $(ASAN_DIR)/sandbox/edition/full.o \
	  $(addprefix $(ASAN_DIR)/,$(CLI_OBJS)) $(ASAN_DIR)/libagentrun.a $(PKG_LIBS)

$(ASAN_DIR)/tests/unit/test_%: tests/unit/test_%.c tests/unit/unit.h $(ASAN_DIR)/sandbox/edition/full.o \
                               $(ASAN_DIR)/libagentrun.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ASAN_CFLAGS) -pie $(LDFLAGS) -MMD -MP -o $@ $< $(ASAN_DIR)/sandbox/edition/full.o \
	  $(ASAN_DIR)/libagentrun.a $(PKG_LIBS)

check-asan: $(ASAN_DIR)/agentrun $(ASAN_UNIT_BINS)
	@tests/asan.sh $(ASAN_DIR) $(ASAN_UNIT_BINS)

# make fuzz / fuzz-smoke: the libFuzzer targets of tests/fuzz/, built with
# clang into build/fuzz/.  Each tests/fuzz/fuzz_NAME.c is a target NAME with
# seeds in tests/fuzz/corpus/NAME/ and crash regressions in
# tests/fuzz/regressions/NAME/; tests/fuzz/README.md says how to add one.
# A target that needs sources outside LIB_SRCS lists them in
# FUZZ_SRCS_NAME, one line.
FUZZ_CC ?= clang
FUZZ_DIR := build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))
# clang warns where gcc does not: it ignores the /* fall through */
# comments that gcc's -Wimplicit-fallthrough accepts, and -Wformat=2 flags
# vasprintf in functions that take a format.  The normal gcc build keeps
# -Werror, so here warnings are printed but do not stop the build.
FUZZ_CFLAGS = $(SAN_CFLAGS) -Wno-error -Wno-implicit-fallthrough -Wno-format-nonliteral \
              -Wno-missing-field-initializers -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_OBJS := $(addprefix $(FUZZ_DIR)/,$(LIB_OBJS))

$(FUZZ_DIR)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/%.o: %.S $(TRAMPOLINE)
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(SAN_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/libagentrun.a: $(FUZZ_LIB_OBJS)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

# The gRPC target includes the generated protobuf headers.
$(FUZZ_DIR)/fuzz_grpc: $(PROTO_HDRS)

# Kept between runs, although only the link rules name them.
.SECONDARY: $(FUZZ_DIR)/sandbox/edition/full.o $(ASAN_DIR)/sandbox/edition/full.o

.SECONDEXPANSION:
$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_SRCS_$$*) $(FUZZ_DIR)/sandbox/edition/full.o $(FUZZ_DIR)/libagentrun.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Itests/fuzz -MMD -MP -o $@ $< $(FUZZ_SRCS_$*) \
	  $(FUZZ_DIR)/sandbox/edition/full.o $(FUZZ_DIR)/libagentrun.a $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_DIR) $(FUZZ_TARGETS)

fuzz-smoke: $(FUZZ_BINS)
	@tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_DIR) $(FUZZ_TARGETS)

# agentrun against crun and runc with hyperfine (needs root); the results
# go to bench/out/, and bench/RESULTS.md records a run.
bench: agentrun
	bench/run.sh

# The demo's Debian rootfs, built with debootstrap when it is missing and
# reused otherwise.  The checks build it first, because the build (about a
# minute, longer on a busy machine) does not fit in the time limit of one
# integration test.  Without debootstrap or a mirror, the demo's tests
# skip or fail and say why, so a failed build does not stop the checks.
demo-rootfs:
	-@examples/demo/build-rootfs.sh

# The demo agent under examples/policies/demo-agent.yaml (needs root): the
# first run builds its Debian rootfs with debootstrap, later runs reuse it.
demo: agentrun agentrun-full
	examples/demo/demo.sh agentrun

# The same agent with podman and agentrun as its runtime.
demo-podman: agentrun agentrun-full
	examples/demo/demo.sh podman

install: agentrun agentrun-full
	install -D -m 0755 agentrun $(DESTDIR)$(BINDIR)/agentrun
	install -D -m 0755 agentrun-full $(DESTDIR)$(LIBEXECDIR)/agentrun/agentrun-full
	install -D -m 0644 examples/podman/agentrun.conf \
	        $(DESTDIR)$(SYSCONFDIR)/containers/containers.conf.d/50-agentrun.conf

clean:
	rm -f agentrun agentrun-full libagentrun.a $(EDITION_OBJS) $(TRAMPOLINE) $(LIB_OBJS) $(CLI_OBJS) $(DEPS) $(UNIT_BINS) $(PROTO_SRCS) \
	      $(PROTO_HDRS)
	rm -rf build

-include $(DEPS)
-include $(shell find build -name '*.d' 2>/dev/null)
