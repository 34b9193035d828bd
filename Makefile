# weir — see README.md.  User CFLAGS, CPPFLAGS and LDFLAGS are added to ours.

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

SHELL	:= /bin/bash
CC	?= cc
PKG_CONFIG ?= pkg-config
VERSION	 = 0.1.0

WARN	 = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wwrite-strings -Wpointer-arith -Wundef
EV_CFLAGS != $(PKG_CONFIG) --cflags libevent 2>/dev/null || true
EV_LIBS	  != $(PKG_CONFIG) --libs libevent 2>/dev/null || echo -levent
SSL_CFLAGS != $(PKG_CONFIG) --cflags openssl 2>/dev/null || true
SSL_LIBS  != $(PKG_CONFIG) --libs openssl 2>/dev/null || echo -lssl -lcrypto
ALL_CFLAGS = -std=c11 -O2 -g $(WARN) $(EV_CFLAGS) $(SSL_CFLAGS) -D_GNU_SOURCE \
	     -DWEIR_VERSION='"$(VERSION)"' $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(LDFLAGS)
LIBS	 = $(EV_LIBS) $(SSL_LIBS) -lm -pthread

# The sans-IO codecs, also linked into the unit tests and fuzz targets.
CODEC_SRCS = src/proto-codec.c src/proto-line.c src/proto-netstring.c \
	   src/proto-relay.c src/utf8.c src/ws-codec.c src/ws-handshake.c \
	   src/http-head.c src/http-connect.c src/socks5.c
SRCS	 = src/acl.c src/arena.c src/cli.c src/flow.c src/hub.c src/kind.c src/listener.c src/log.c src/main.c \
	   src/progress.c src/proto.c src/route-broker.c src/route-pair.c src/route-shared.c \
	   src/proxy.c src/sock.c src/transport.c src/transport-splice.c src/transport-exec.c \
	   src/tls.c src/transport-file.c src/transport-stdio.c \
	   src/transport-tcp.c src/transport-tls.c src/transport-tls-listen.c \
	   src/transport-socks5.c src/transport-udp.c src/transport-unix.c \
	   src/transport-ws.c src/util.c $(CODEC_SRCS)
OBJS	 = $(SRCS:.c=.o)
FUZZ_TARGETS = tests/fuzz/fuzz-line tests/fuzz/fuzz-netstring tests/fuzz/fuzz-cli \
	   tests/fuzz/fuzz-ws tests/fuzz/fuzz-http tests/fuzz/fuzz-socks \
	   tests/fuzz/fuzz-connect
FUZZ_SECONDS ?= 30
CLANG	?= clang
HDRS	 = $(wildcard src/*.h)

# Debian packages the build and the tests need.
DEB_DEPS = gcc make libevent-dev libssl-dev pkg-config bats bats-support \
	   bats-assert bats-file mandoc python3 time clang libclang-rt-14-dev \
	   valgrind openssl curl tmux jq dnsmasq-base bind9-dnsutils \
	   python3-websockets chromium microsocks tinyproxy dante-server
# And what the benchmarks compare weir with.
BENCH_DEPS = socat ncat pv netcat-openbsd haproxy redis-server redis-tools mbuffer

.PHONY: all deps check unit fuzz sanitize valgrind install uninstall clean demo bench lint

all: weir

weir: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(OBJS) $(LIBS)

src/%.o: src/%.c $(HDRS)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Install what is missing with apt-get; nothing when everything is there.
deps:
	@missing=""; \
	if command -v dpkg-query >/dev/null 2>&1; then \
		for p in $(DEB_DEPS); do \
			dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
			    grep -q 'ok installed' || missing="$$missing $$p"; \
		done; \
		if [ -n "$$missing" ]; then \
			echo "make deps: installing$$missing"; \
			if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
			$$SUDO apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
		fi; \
	else \
		for c in cc pkg-config bats mandoc python3; do \
			command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; \
		done; \
		if [ -n "$$missing" ]; then \
			echo "make deps: not a Debian system; please install:$$missing," \
			    "libevent 2.1 (with headers), bats-support, bats-assert, bats-file" >&2; \
			exit 1; \
		fi; \
	fi

UNIT_TESTS = tests/unit/test-proto tests/unit/test-transport \
	   tests/unit/test-ws tests/unit/test-http tests/unit/test-socks
# Preloaded into weir by tests (plain flags: a sanitized weir takes it too).
SHIMS = tests/shim/splice-fail.so

check: deps
	$(MAKE) all $(UNIT_TESTS) $(SHIMS)
	tests/unit/test-proto
	tests/unit/test-transport
	tests/unit/test-ws
	tests/unit/test-http
	tests/unit/test-socks
	tests/lanes -n 3 tests/*.bats

tests/shim/splice-fail.so: tests/shim/splice-fail.c
	$(CC) -O2 -Wall -Wextra -shared -fPIC -o $@ tests/shim/splice-fail.c -ldl

unit: $(UNIT_TESTS)
	tests/unit/test-proto
	tests/unit/test-transport
	tests/unit/test-ws
	tests/unit/test-http
	tests/unit/test-socks

tests/unit/test-proto: tests/unit/test-proto.c tests/unit/tap.h $(CODEC_SRCS) \
    src/util.c $(HDRS)
	$(CC) $(ALL_CFLAGS) -Isrc $(ALL_LDFLAGS) -o $@ tests/unit/test-proto.c \
	    $(CODEC_SRCS) src/util.c $(LIBS)

# The WebSocket frame codec and UTF-8; the HTTP head and the handshake;
# the proxy handshakes, SOCKS5 and HTTP CONNECT.
tests/unit/test-ws tests/unit/test-http tests/unit/test-socks: tests/unit/test-%: \
    tests/unit/test-%.c tests/unit/tap.h $(CODEC_SRCS) src/util.c $(HDRS)
	$(CC) $(ALL_CFLAGS) -Isrc $(ALL_LDFLAGS) -o $@ $< $(CODEC_SRCS) \
	    src/util.c $(LIBS)

# The glue and the engine, with a message kind over a socket pair.
TRANSPORT_SRCS = src/arena.c src/transport.c src/transport-splice.c src/flow.c src/util.c src/log.c src/proto.c \
	   $(CODEC_SRCS)
tests/unit/test-transport: tests/unit/test-transport.c $(TRANSPORT_SRCS) $(HDRS)
	$(CC) $(ALL_CFLAGS) -Isrc $(ALL_LDFLAGS) -o $@ tests/unit/test-transport.c \
	    $(TRANSPORT_SRCS) $(LIBS)

# libFuzzer targets (clang), each run FUZZ_SECONDS on a copy of its seeds.
fuzz: $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
		n=$$(basename $$t | sed 's/^fuzz-//'); \
		work=$$(mktemp -d); cp tests/fuzz/corpus/$$n/* $$work/; \
		echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
		$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		    $$work 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|crash' ; \
		st=$${PIPESTATUS[0]}; rm -rf $$work; \
		[ "$$st" -eq 0 ] || { echo "fuzz: $$n FAILED"; exit 1; }; \
	done

tests/fuzz/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz-common.h $(CODEC_SRCS) \
    src/util.c $(HDRS)
	$(CLANG) -std=c11 -g -O1 -D_GNU_SOURCE $(EV_CFLAGS) -Isrc \
	    -fsanitize=fuzzer,address,undefined -o $@ $< $(CODEC_SRCS) \
	    src/util.c $(LIBS)

# The command line parser, with what it calls: the kinds, and so the
# transports they describe.
CLI_FUZZ_SRCS = $(filter-out src/main.c src/hub.c src/listener.c src/route-%,$(SRCS))
tests/fuzz/fuzz-cli: tests/fuzz/fuzz-cli.c $(CLI_FUZZ_SRCS) $(HDRS)
	$(CLANG) -std=c11 -g -O1 -D_GNU_SOURCE $(EV_CFLAGS) -Isrc \
	    -DWEIR_VERSION='"$(VERSION)"' -fsanitize=fuzzer,address,undefined \
	    -o $@ $< $(CLI_FUZZ_SRCS) $(LIBS)

sanitize: deps
	$(MAKE) clean
	$(MAKE) all $(UNIT_TESTS) \
	    CFLAGS="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined"
	$(MAKE) $(SHIMS)
	tests/unit/test-proto
	tests/unit/test-transport
	tests/unit/test-ws
	tests/unit/test-http
	tests/unit/test-socks
	WEIR_SANITIZE=1 ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=8 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 tests/lanes tests/*.bats
	$(MAKE) clean

# A subset of the suite under valgrind's memcheck, with a private -O1 -g
# build in build/valgrind/ (the tree may hold a sanitizer build meanwhile);
# tests/valgrind/run says which tests run and why, and reads every log.
VG_DIR	 = build/valgrind
VG_OBJS	 = $(addprefix $(VG_DIR)/,$(OBJS))

valgrind: deps $(VG_DIR)/weir $(SHIMS)
	tests/valgrind/run $(VG_DIR)/weir

$(VG_DIR)/weir: $(VG_OBJS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(VG_OBJS) $(LIBS)

$(VG_DIR)/src/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(patsubst -O2,-O1,$(ALL_CFLAGS)) -fno-omit-frame-pointer -c -o $@ $<

lint:
	mandoc -Tlint -W warning man/weir.1

demo: deps
	$(MAKE) all
	sh bench/demo.sh

bench:
	$(MAKE) deps DEB_DEPS="$(DEB_DEPS) $(BENCH_DEPS)"
	$(MAKE) all
	sh bench/run.sh

install: weir
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 755 weir $(DESTDIR)$(BINDIR)/weir
	install -m 644 man/weir.1 $(DESTDIR)$(MANDIR)/man1/weir.1
	install -m 644 completions/weir.bash $(DESTDIR)$(BASHCOMPDIR)/weir
	install -m 644 completions/_weir $(DESTDIR)$(ZSHCOMPDIR)/_weir
	install -m 644 completions/weir.fish $(DESTDIR)$(FISHCOMPDIR)/weir.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/weir $(DESTDIR)$(MANDIR)/man1/weir.1 \
	    $(DESTDIR)$(BASHCOMPDIR)/weir $(DESTDIR)$(ZSHCOMPDIR)/_weir \
	    $(DESTDIR)$(FISHCOMPDIR)/weir.fish

clean:
	rm -f weir $(OBJS) $(UNIT_TESTS) $(FUZZ_TARGETS) $(SHIMS)
	rm -rf $(VG_DIR)
