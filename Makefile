# gosupervisor: a drop-in Go reimplementation of supervisord.
#   make run    build, then run supervisord in the foreground on examples/monitor
#               (make run EXAMPLE=services: dependencies, health checks, critical;
#               make run EXAMPLE=fleet: three daemons in one console)
#   make test   install what the tests need, then run every test
#   make bench  Go benchmarks and the side-by-side comparison with Python supervisord

GO        ?= go
BIN       := bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/gosupervisor/gosupervisor/pkg/version.Version=$(VERSION)
RUN_MODE  ?= dev
EXAMPLE   ?= monitor
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export CGO_ENABLED ?= 0

.PHONY: all build run test test-deps unit browser-test bench fuzz lint clean monitor services

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/supervisord ./cmd/supervisord
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/supervisorctl ./cmd/supervisorctl
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/pidproxy ./cmd/pidproxy

monitor:
	$(GO) build -o examples/monitor/micro/monitor/monitor ./examples/monitor/micro/monitor
	mkdir -p examples/monitor/micro/monitor/logs

services:
	$(GO) build -o examples/services/demo/demo ./examples/services/demo
	rm -f examples/services/worker.crash

# Foreground daemon on an example; web console on http://127.0.0.1:9001/
# (monitor), :9002 (services) or :9003 (fleet).
run: build monitor services
	RUN_MODE=$(RUN_MODE) $(BIN)/supervisord -n -c examples/$(EXAMPLE)/supervisord.conf

# Debian's Python supervisor is the compatibility oracle of the tests; Chromium
# and playwright-core drive the web console like a person would.
test-deps:
	@if [ ! -f /usr/lib/python3/dist-packages/supervisor/version.txt ] || ! command -v chromium >/dev/null; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq supervisor chromium >/dev/null; \
	fi
	@# Debian's package starts its own supervisord service; our tests only use the binaries.
	@# tests/upstream runs Python supervisor's own test_end_to_end.py, which needs pexpect and pytest.
	@/usr/bin/python3 -c 'import pexpect, pytest' 2>/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-pexpect python3-pytest >/dev/null; }
	@# tests/top drives `supervisorctl top` in tmux.
	@command -v tmux >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq tmux >/dev/null; }
	@# systemd-analyze verifies examples/systemd/supervisord.service.
	@command -v systemd-analyze >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq systemd >/dev/null; }
	@# tests/metrics runs a real Prometheus, promtool (both in Debian's prometheus) and node_exporter 1.5.0.
	@command -v prometheus >/dev/null && command -v promtool >/dev/null && command -v prometheus-node-exporter >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq prometheus prometheus-node-exporter >/dev/null; }
	@if [ -f tests/browser/package.json ] && [ ! -d tests/browser/node_modules/playwright-core ]; then \
		cd tests/browser && npm install --no-audit --no-fund --silent; \
	fi

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...

unit:
	CGO_ENABLED=1 $(GO) test -race -timeout 15m ./...

test: test-deps lint build monitor services unit

bench: build monitor
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/... ./bench/
	$(GO) test -run '^$$' -bench . -benchtime 1x ./tests/top ./tests/fleet ./tests/browser
	@if [ -x scripts/bench.sh ]; then scripts/bench.sh; fi

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime 60s ./pkg/config
	$(GO) test -run '^$$' -fuzz FuzzDecodeCall -fuzztime 60s ./pkg/xmlrpc

clean:
	rm -rf $(BIN)
