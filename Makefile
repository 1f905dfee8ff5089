# netlof build. Quiet unless V=1; targets that fail leave no partial output.
.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

# make SANITIZE=1 ...: AddressSanitizer and UndefinedBehaviorSanitizer, in
# its own build folder so the two builds never mix objects.
SANITIZE ?= 0
ifeq ($(FUZZ),1)
# make fuzz builds here: clang with libFuzzer's coverage, ASan and UBSan.
BUILD   ?= build-fuzz
CXX     := clang++
SAN_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else ifeq ($(SANITIZE),1)
BUILD   ?= build-san
CXXFLAGS ?= -O1 -g
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -DNETLOF_SANITIZED
else
BUILD   ?= build
endif
CXX     ?= g++
PYTHON  ?= /usr/bin/python3
Q       := $(if $(filter 1,$(V)),,@)
msg      = $(if $(filter 1,$(V)),,@printf '  %-8s %s\n' '$(1)' '$(2)')

# CXXFLAGS is the user's (make CXXFLAGS=...); what netlof needs lives apart.
CXXFLAGS   ?= -O2 -g
NL_CXXFLAGS := -std=c++20 -Wall -Wextra -pthread $(SAN_FLAGS)
NL_CPPFLAGS := -I. -I$(BUILD)/bpf -I$(BUILD)/gen -I/usr/include/eigen3 -MMD -MP -DEIGEN_NO_DEBUG
NL_LDLIBS   := -lyaml-cpp -lfmt -lbpf -lelf -lz -lsystemd -lcap -pthread

# BPF: bpf/name.bpf.c -> build/bpf/name.bpf.o (clang -target bpf) -> name.skel.h
CLANG     ?= clang
BPFTOOL   ?= bpftool
BPF_ARCH  := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
VMLINUX_H := $(BUILD)/bpf/vmlinux.h
BPF_OBJ   := $(BUILD)/bpf/netlof.bpf.o
BPF_SKEL  := $(BUILD)/bpf/netlof.skel.h
.SECONDARY: $(BPF_OBJ) $(VMLINUX_H)

# Every Debian package the build, the tests and the benchmarks use.
DEB_PACKAGES := build-essential clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
	libeigen3-dev libnanoflann-dev libyaml-cpp-dev catch2 nlohmann-json3-dev libcli11-dev \
	libfmt-dev libfast-float-dev libcap-dev libsystemd-dev prometheus-node-exporter prometheus rsyslog chromium man-db \
	python3-sklearn python3-numpy python3-pandas iproute2 time util-linux logrotate systemd \
	libclang-rt-dev qemu-system-x86 busybox-static

# A library of what needs neither the kernel nor a file of its own: common/
# (diagnostics, tables, file helpers), model/ (features, LOF) and rules/
# (allowlists, baselines). userspace/ is one folder a layer (see docs/design.md).
MODEL_SRCS := $(wildcard common/*.cpp model/*.cpp rules/*.cpp)
USER_SRCS  := $(filter-out userspace/commands/main.cpp,$(wildcard userspace/*/*.cpp))
TEST_SRCS  := $(wildcard tests/*.cpp tests/unit/*.cpp tests/integration/*.cpp) \
	$(filter-out tests/fuzz/fuzz_main.cpp,$(wildcard tests/fuzz/*.cpp))

MODEL_OBJS := $(MODEL_SRCS:%.cpp=$(BUILD)/%.o)
USER_OBJS  := $(USER_SRCS:%.cpp=$(BUILD)/%.o)
TEST_OBJS  := $(TEST_SRCS:%.cpp=$(BUILD)/%.o)
MODEL_LIB  := $(BUILD)/libnetlof_model.a
NETLOF     := $(BUILD)/netlof
TESTS      := $(BUILD)/netlof_tests
LOADGEN    := $(BUILD)/netlof-loadgen
LEARN_DAY  := $(BUILD)/netlof-learn-day

.PHONY: all deps test test-kernels test-repeat run notebook eval eval-live bench clean install deb fuzz fuzz-run
all: $(NETLOF)

# Installs what is missing (apt-get update first); a no-op when all is present.
deps:
	$(Q)missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$(echo $$missing | sed 's/^/ /')"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	else echo "deps: all $(words $(DEB_PACKAGES)) packages present"; fi

# vmlinux.h comes from the running kernel's BTF, so CO-RE relocations match it.
$(VMLINUX_H):
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)test -r $(VMLINUX_BTF) || { echo "failed to generate $@: $(VMLINUX_BTF) missing (kernel without CONFIG_DEBUG_INFO_BTF)" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/events.h $(VMLINUX_H)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) -I$(BUILD)/bpf -Ibpf -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*)_bpf > $@

$(BUILD)/%.o: %.cpp
	$(call msg,CXX,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(NL_CPPFLAGS) $(CPPFLAGS) $(CXXFLAGS) $(NL_CXXFLAGS) $(NL_OPT) -c $< -o $@

# The daemon's built-in pipeline (a config that names none): the shipped
# configs/pipeline-default.yaml as a string literal.
PIPELINE_INC := $(BUILD)/gen/default_pipeline.inc
$(PIPELINE_INC): configs/pipeline-default.yaml
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q){ printf 'R"netlof_yaml('; cat $<; printf ')netlof_yaml"\n'; } > $@
$(BUILD)/userspace/daemon/daemon_config.o: $(PIPELINE_INC)

# User-space objects may include the skeleton; -MMD tracks it after the first build.
$(USER_OBJS) $(BUILD)/userspace/commands/main.o $(TEST_OBJS): | $(BPF_SKEL)

# The model's hot loops (the tree build and the neighbour search) gain from -O3.
$(BUILD)/model/%.o: NL_OPT := -O3

# The version `netlof --version` reports.
VERSION := 0.13.0
$(BUILD)/userspace/commands/main.o: NL_CPPFLAGS += -DNETLOF_VERSION='"$(VERSION)"'
$(BUILD)/userspace/commands/main.o: Makefile  # a new VERSION is compiled in

# Tests find the binary and the fixtures through these paths.
$(BUILD)/tests/%.o: NL_CPPFLAGS += -DNETLOF_SOURCE_DIR='"$(CURDIR)"' -DNETLOF_BINARY='"$(abspath $(NETLOF))"' \
	-DNETLOF_LOADGEN='"$(abspath $(LOADGEN))"'

$(MODEL_LIB): $(MODEL_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(NETLOF): $(BUILD)/userspace/commands/main.o $(USER_OBJS) $(MODEL_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CXX) $(CXXFLAGS) $(NL_CXXFLAGS) $(LDFLAGS) $^ -o $@ $(NL_LDLIBS) $(LDLIBS)

$(LOADGEN): $(BUILD)/bench/loadgen.o
	$(call msg,LINK,$@)
	$(Q)$(CXX) $(CXXFLAGS) $(NL_CXXFLAGS) $(LDFLAGS) $^ -o $@

$(LEARN_DAY): $(BUILD)/bench/learn_day.o $(USER_OBJS) $(MODEL_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CXX) $(CXXFLAGS) $(NL_CXXFLAGS) $(LDFLAGS) $^ -o $@ $(NL_LDLIBS) $(LDLIBS)

$(TESTS): $(TEST_OBJS) $(USER_OBJS) $(MODEL_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CXX) $(CXXFLAGS) $(NL_CXXFLAGS) $(LDFLAGS) $^ -o $@ $(NL_LDLIBS) $(LDLIBS)

# Runs every test; the last line is "N passed, N failed". A run that has
# not finished within TEST_LIMIT is stopped (the test it was in is printed)
# and fails: a hang must not hold CI until its own limit.
TEST_LIMIT ?= 30m
RUN_TESTS   = timeout --kill-after=30s $(TEST_LIMIT) $(TESTS)
test: deps
	$(Q)$(MAKE) --no-print-directory $(NETLOF) $(LOADGEN) $(TESTS)
	$(Q)$(RUN_TESTS) $(TEST_ARGS) || { rc=$$?; \
		if [ $$rc -eq 124 ]; then echo "make test: stopped after $(TEST_LIMIT): the test named last above hung"; fi; exit $$rc; }

# The kernel matrix: the tests tagged [kernels] (the sensor's exactness
# tests, record, a daemon that learns then alerts) on Debian 12's own kernel
# package, booted under qemu without KVM with this build shared into it
# (scripts/test-kernels.sh; KERNEL_PACKAGE=... for another). `make test`
# runs the same tests on the host's kernel.
KERNEL_TESTS ?= [kernels]
test-kernels: deps
	$(Q)$(MAKE) --no-print-directory $(NETLOF) $(LOADGEN) $(TESTS)
	$(Q)scripts/test-kernels.sh --tests $(TESTS) --filter '$(KERNEL_TESTS)' --work $(BUILD)/kernels

# The kernel tests N times in a row (make test-repeat N=20), or any group
# (REPEAT="[unit]"; REPEAT= for the whole suite): a test that fails one run
# in ten shows here. Each run's output is kept in $(BUILD)/test-repeat/N.log;
# the last line counts the runs.
N      ?= 20
REPEAT ?= [sensor],[daemon]
test-repeat: deps
	$(Q)$(MAKE) --no-print-directory $(NETLOF) $(LOADGEN) $(TESTS)
	$(Q)mkdir -p $(BUILD)/test-repeat; failed=0; \
	for i in $$(seq 1 $(N)); do \
		if $(RUN_TESTS) $(if $(REPEAT),'$(REPEAT)') > $(BUILD)/test-repeat/$$i.log 2>&1; then r=ok; else r=FAILED; failed=$$((failed + 1)); fi; \
		echo "run $$i: $$r: $$(tail -1 $(BUILD)/test-repeat/$$i.log)"; \
	done; \
	echo "$$(($(N) - failed)) passed, $$failed failed"; test $$failed -eq 0

# The daemon with configs/netlof.yaml, state and logs under ./run (root).
run: deps
	$(Q)$(MAKE) --no-print-directory $(NETLOF) $(LOADGEN)
	$(Q)scripts/daemon-demo.sh $(NETLOF) $(LOADGEN) run

# The notebook end to end: synthesize, train, score the three examples.
notebook: deps
	$(Q)$(MAKE) --no-print-directory $(NETLOF)
	$(Q)scripts/notebook-demo.sh $(NETLOF) $(BUILD)/demo

# Detection on labelled traffic beside two baselines: three days of one
# server's life (scripts/eval_days.py) for each of SEEDS, learned and judged
# with the shipped config; per attack kind detected or not, false alert lines
# per 10,000 benign connections, per hour and per day, the deploy's lines and
# the LOF threshold of every model (scripts/eval.py). SEEDS=N for one.
SEEDS ?= 1 2 3
eval: deps
	$(Q)$(MAKE) --no-print-directory $(NETLOF)
	$(Q)set -e; for s in $(SEEDS); do $(PYTHON) scripts/eval.py --netlof $(NETLOF) --workdir $(BUILD)/eval-$$s --seed $$s; done

# The real sensor and daemon on ten minutes of benign traffic at about 300
# connections/s after learning; the false alert lines it wrote, and what
# replay writes from its record log (root; scripts/eval_live.py).
eval-live: deps
	$(Q)$(MAKE) --no-print-directory $(NETLOF) $(LOADGEN)
	$(Q)$(PYTHON) scripts/eval_live.py --netlof $(NETLOF) --loadgen $(LOADGEN) --workdir $(BUILD)/eval-live \
		$(if $(MINUTES),--minutes $(MINUTES))

bench: deps
	$(Q)$(MAKE) --no-print-directory $(NETLOF) $(LOADGEN) $(LEARN_DAY)
	$(Q)sed 's|/etc/netlof/|$(CURDIR)/configs/|' configs/netlof.yaml > $(BUILD)/bench-learn-day.yaml
	$(Q)$(LEARN_DAY) --config $(BUILD)/bench-learn-day.yaml --rate 300
	$(Q)$(PYTHON) scripts/bench_lof.py --netlof $(NETLOF) --workdir $(BUILD)/bench
	$(Q)$(PYTHON) scripts/bench_growth.py --netlof $(NETLOF) --workdir $(BUILD)/bench-growth
	$(Q)$(PYTHON) scripts/bench_sensor.py --netlof $(NETLOF) --loadgen $(LOADGEN)
	$(Q)$(PYTHON) scripts/bench_daemon.py --netlof $(NETLOF) --loadgen $(LOADGEN)
	$(Q)$(PYTHON) scripts/bench_engine.py --netlof $(NETLOF) --workdir $(BUILD)/bench-engine
	$(Q)$(PYTHON) scripts/bench_soak.py --netlof $(NETLOF) --loadgen $(LOADGEN)

# libFuzzer on every parser (tests/fuzz/fuzz_targets.cpp), FUZZ_SECONDS each.
# New inputs go to $(BUILD)/fuzz-corpus, seeded from tests/fuzz/corpus; a
# crash stops the run and is written as build-fuzz/crash-<target>-*: copy it
# into tests/fuzz/corpus/<target>/ and it is a regression test from then on.
FUZZ_SECONDS ?= 20
FUZZ_TARGETS := config allowlist pipeline csv jsonl model event
FUZZERS       = $(FUZZ_TARGETS:%=$(BUILD)/fuzz-%)
fuzz: deps
	$(Q)$(MAKE) --no-print-directory FUZZ=1 fuzz-run

$(BUILD)/fuzz-%: $(BUILD)/tests/fuzz/fuzz_main-%.o $(BUILD)/tests/fuzz/fuzz_targets.o $(USER_OBJS) $(MODEL_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CXX) $(CXXFLAGS) $(NL_CXXFLAGS) -fsanitize=fuzzer $(LDFLAGS) $^ -o $@ $(NL_LDLIBS) $(LDLIBS)

$(BUILD)/tests/fuzz/fuzz_main-%.o: tests/fuzz/fuzz_main.cpp | $(BPF_SKEL)
	$(call msg,CXX,$< ($*))
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(NL_CPPFLAGS) -DNETLOF_FUZZ_TARGET='"$*"' $(CPPFLAGS) $(CXXFLAGS) $(NL_CXXFLAGS) -c $< -o $@

fuzz-run: $(FUZZERS)
	$(Q)for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz-corpus/$$t; \
		printf '  %-8s %s\n' FUZZ "$$t ($(FUZZ_SECONDS) s)"; \
		$(BUILD)/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
			-artifact_prefix=$(BUILD)/crash-$$t- $(BUILD)/fuzz-corpus/$$t tests/fuzz/corpus/$$t \
			> $(BUILD)/fuzz-$$t.log 2>&1 || { tail -40 $(BUILD)/fuzz-$$t.log; echo "fuzz: $$t failed, see $(BUILD)/fuzz-$$t.log"; exit 1; }; \
		grep -E '^Done [0-9]+ runs' $(BUILD)/fuzz-$$t.log | sed "s/^/    $$t: /"; \
	done

# make install [PREFIX=/usr/local] [DESTDIR=staging] [SYSCONFDIR=/etc] [LOCALSTATEDIR=/var]
# The unit, config and logrotate file are installed with these paths written
# in. Existing config files are kept: a reinstall never overwrites an
# operator's allowlist.
PREFIX        ?= /usr/local
SYSCONFDIR    ?= /etc
LOCALSTATEDIR ?= /var
BINDIR        := $(PREFIX)/bin
UNITDIR       ?= $(PREFIX)/lib/systemd/system
DOCDIR        := $(PREFIX)/share/doc/netlof
MANDIR        := $(PREFIX)/share/man/man8
ETCDIR        := $(SYSCONFDIR)/netlof
INSTALL_PATHS  = sed -e 's|/usr/local/bin/|$(BINDIR)/|g' -e 's|/usr/local/share/doc/netlof|$(DOCDIR)|g' \
	-e 's|/etc/netlof|$(ETCDIR)|g' -e 's|/var/lib/netlof|$(LOCALSTATEDIR)/lib/netlof|g' \
	-e 's|/var/log/netlof|$(LOCALSTATEDIR)/log/netlof|g'
install: $(NETLOF)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(MANDIR) \
		$(DESTDIR)$(ETCDIR) $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	$(Q)install -d -m 0700 $(DESTDIR)$(LOCALSTATEDIR)/lib/netlof
	$(Q)install -d -m 0750 $(DESTDIR)$(LOCALSTATEDIR)/log/netlof
	$(Q)install -m 0755 $(NETLOF) $(DESTDIR)$(BINDIR)/netlof
	$(Q)$(INSTALL_PATHS) configs/netlof.service > $(DESTDIR)$(UNITDIR)/netlof.service && chmod 0644 $(DESTDIR)$(UNITDIR)/netlof.service
	$(Q)$(INSTALL_PATHS) configs/logrotate > $(DESTDIR)$(SYSCONFDIR)/logrotate.d/netlof && chmod 0644 $(DESTDIR)$(SYSCONFDIR)/logrotate.d/netlof
	$(Q)install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	$(Q)sed 's/@VERSION@/$(VERSION)/' docs/netlof.8 | gzip -9n > $(DESTDIR)$(MANDIR)/netlof.8.gz && chmod 0644 $(DESTDIR)$(MANDIR)/netlof.8.gz
	$(Q)for f in pipeline-default.yaml pipeline-seed.yaml allowlist.yaml; do \
		[ -e $(DESTDIR)$(ETCDIR)/$$f ] || install -m 0644 configs/$$f $(DESTDIR)$(ETCDIR)/$$f; done
	$(Q)[ -e $(DESTDIR)$(ETCDIR)/netlof.yaml ] || { $(INSTALL_PATHS) configs/netlof.yaml > $(DESTDIR)$(ETCDIR)/netlof.yaml && \
		chmod 0644 $(DESTDIR)$(ETCDIR)/netlof.yaml; }

# make deb: a Debian package of what `make install PREFIX=/usr` installs:
# the binary (stripped), the unit, logrotate rules, the man page, the configs
# as conffiles, and maintainer scripts (configs/debian/). Depends comes from
# dpkg-shlibdeps, as Debian's own packages get it.
DEB_ARCH       := $(shell dpkg --print-architecture 2>/dev/null)
DEB            := $(BUILD)/netlof_$(VERSION)_$(DEB_ARCH).deb
DEB_MAINTAINER ?= netlof developers <netlof@localhost>
deb: $(DEB)
$(DEB): $(NETLOF) Makefile docs/netlof.8 configs/netlof.service configs/netlof.yaml configs/logrotate \
		configs/allowlist.yaml configs/pipeline-default.yaml configs/pipeline-seed.yaml $(wildcard configs/debian/*)
	$(call msg,DEB,$@)
	$(Q)rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/root/DEBIAN $(BUILD)/deb/shlibs/debian
	$(Q)$(MAKE) --no-print-directory -s install DESTDIR=$(abspath $(BUILD)/deb/root) PREFIX=/usr SYSCONFDIR=/etc \
		LOCALSTATEDIR=/var BUILD=$(BUILD)
	$(Q)strip --strip-unneeded --remove-section=.comment --remove-section=.note $(BUILD)/deb/root/usr/bin/netlof
	$(Q)cd $(BUILD)/deb/root && find etc -type f | sed 's|^|/|' | sort > DEBIAN/conffiles
	$(Q)install -m 0755 configs/debian/postinst configs/debian/prerm configs/debian/postrm $(BUILD)/deb/root/DEBIAN/
	$(Q)echo 'Source: netlof' > $(BUILD)/deb/shlibs/debian/control
	$(Q)depends=$$(cd $(BUILD)/deb/shlibs && dpkg-shlibdeps -O -e $(abspath $(BUILD)/deb/root/usr/bin/netlof) 2>/dev/null | \
		sed -n 's/^shlibs:Depends=//p'); test -n "$$depends" || { echo "failed to compute Depends: dpkg-shlibdeps found none" >&2; exit 1; }; \
	size=$$(du -sk --exclude=DEBIAN $(BUILD)/deb/root | cut -f1); \
	sed -e 's/@VERSION@/$(VERSION)/' -e 's/@ARCH@/$(DEB_ARCH)/' -e 's/@MAINTAINER@/$(DEB_MAINTAINER)/' \
		-e "s/@SIZE@/$$size/" -e "s/@DEPENDS@/$$depends/" configs/debian/control > $(BUILD)/deb/root/DEBIAN/control
	$(Q)dpkg-deb --root-owner-group -Zxz --build $(BUILD)/deb/root $@ >/dev/null

clean:
	$(Q)rm -rf $(BUILD)

-include $(MODEL_OBJS:.o=.d) $(USER_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(BUILD)/userspace/commands/main.d $(BUILD)/bench/loadgen.d \
	$(wildcard $(BUILD)/tests/fuzz/*.d)
