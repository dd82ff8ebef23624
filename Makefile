# Fengqiao kiosk. The two commands that matter:
#   make run    the whole kiosk on this machine (simulated hardware, local broker)
#   make test   every test
# Both install what they need first (make deps, apt-get; run as root or with sudo).

SHELL   := /bin/bash
# A fresh machine gets Go in /usr/local/go (make deps); find it there too.
export PATH := $(PATH):/usr/local/go/bin
GO      ?= go
MODULE  := github.com/fengqiao/kiosk
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X $(MODULE)/agent/version.stamp=$(VERSION)

# Debian packages: the broker, Fyne's cgo build needs, Xvfb for screenshots,
# zbarimg to read the QR codes off them (kiosk-ui/ui qr_test.go).
APT_PKGS := ca-certificates curl unzip git mosquitto mosquitto-clients gcc pkg-config libgl1-mesa-dev libx11-dev \
            libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev \
            xvfb xauth x11-apps xdotool espeak-ng chromium openssl systemd zbar-tools

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build cross test docs-check fuzz-short soak bench run screenshot screenshots clean packages package-test boot-test update-boot-test

all: build

deps:
	@missing=$$(for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@$(SUDO) packaging/dev/install-go.sh

build: bin/kioskd bin/kioskctl bin/kiosk-ui

# go build, not make, knows when a binary is stale (its cache makes a rebuild
# of an unchanged tree cheap), so the binaries are always handed to it.
.PHONY: bin/kioskd bin/kioskctl bin/kiosk-ui

bin/kioskd:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $@ ./agent/cmd/kioskd

bin/kioskctl:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $@ ./agent/cmd/kioskctl

bin/kiosk-ui:
	$(GO) build -ldflags '$(LDFLAGS)' -o $@ ./kiosk-ui/cmd/kiosk-ui

# The agent must stay pure Go for the ARM boards.
cross:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -o /dev/null ./agent/...
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -o /dev/null ./agent/...

# go.mod and go.sum must be as go mod tidy leaves them (else this prints the
# diff that would make them so). GOFLAGS is cleared: a -modfile or -mod from
# the caller would have tidy check some other file.
# -timeout 45m: kiosk-ui/ui tours every screen at three panels in two text
# sizes for several tests, which under -race on a 2-CPU machine shared with
# the other packages takes longer than go test's default 10 minutes: about
# 25 to 28 minutes in December 2026, too near 30 once the points screens
# (issue 20) joined the tour. A timeout is there to catch a hang, not to
# bound a suite that grows with its screens.
test: deps
	GOFLAGS= $(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 45m ./...
	$(MAKE) --no-print-directory fuzz-short cross

# The command lines of README.md and docs/ (sh blocks and commands quoted in
# the text) against the programs' own flags, make's targets and what is
# installed, and every flag default the docs quote (docs/docs_test.go).
# make test runs it with every other package (./...); this is it alone.
docs-check:
	$(GO) test -count=1 ./docs

# Parsers of outside bytes, fuzzed briefly on every make test (longer runs:
# FUZZTIME=10m make fuzz-short). go test takes one fuzz target at a time.
# A count, not a duration: Go 1.26's fuzz coordinator can fail a target with
# "context deadline exceeded" as a duration ends, with nothing found
# (golang/go#75804, fixed in 1.27); a count has no deadline to race.
# 300,000 runs is at least what 10 s gave each target here but one.
FUZZTIME ?= 300000x
fuzz-short:
	$(GO) test -run='^$$' -fuzz='^FuzzFrameDecoder$$' -fuzztime=$(FUZZTIME) ./drivers/idcard
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeText$$' -fuzztime=$(FUZZTIME) ./drivers/idcard
	$(GO) test -run='^$$' -fuzz='^FuzzVerify$$' -fuzztime=$(FUZZTIME) ./agent/bundle
	$(GO) test -run='^$$' -fuzz='^FuzzVerifyPayload$$' -fuzztime=$(FUZZTIME) ./agent/bundle
	$(GO) test -run='^$$' -fuzz='^FuzzOpenRecord$$' -fuzztime=$(FUZZTIME) ./agent/sealed
	$(GO) test -run='^$$' -fuzz='^FuzzMJPEGStream$$' -fuzztime=$(FUZZTIME) ./drivers/camera
	$(GO) test -run='^$$' -fuzz='^FuzzNormalizeJPEG$$' -fuzztime=$(FUZZTIME) ./drivers/camera
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./agent/update
	$(GO) test -run='^$$' -fuzz='^FuzzParseLedger$$' -fuzztime=$(FUZZTIME) ./agent/points
	$(GO) test -run='^$$' -fuzz='^FuzzContentRange$$' -fuzztime=$(FUZZTIME) ./agent/update/download

# The crash test at length: 1,000 kill -9 cycles instead of make test's 50.
soak: deps
	set -o pipefail; FENGQIAO_CRASH_CYCLES=1000 FENGQIAO_CRASH_SET_ASIDE=100000 $(GO) test -race -count=1 -timeout 90m -run 'TestKillNine' -v ./agent/cmd/kioskd 2>&1 | tail -40

run: deps build
	packaging/dev/run.sh

# A picture of the kiosk on a private Xvfb (docs/screenshot.png by default).
SHOT ?= docs/screenshot.png
screenshot: deps build
	@[ -x /usr/bin/convert ] || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq imagemagick; }
	env -u DISPLAY FENGQIAO_SCREENSHOT=$(SHOT) packaging/dev/run.sh

# Every screen of the kiosk UI on each of the three panels, rendered with the
# bundled font by Fyne's software renderer, into docs/ui/ with a gallery in
# docs/ui.md.
screenshots: deps
	rm -rf docs/ui
	$(GO) test -count=1 -run '^TestScreenshots$$' ./kiosk-ui/ui -args -screenshots $(CURDIR)/docs/ui

clean:
	rm -rf bin var dist

# Debian packages of this commit for arm64, armhf and amd64 in dist/
# (docs/deploy.md). Not part of make test: the cross-builds of kiosk-ui take
# minutes. package-test installs them into an arm64 Debian 12 root under
# qemu-user and checks install, delivery, upgrade and purge (~15 min);
# boot-test boots that board under qemu-system-aarch64 with systemd and
# checks the units, restarts and the watchdog (~15 min); update-boot-test
# updates that board with signed kioskd-only releases: one installed, one
# rolled back by its health check, one cut off by a power cut (~15 min).
packages: deps
	packaging/deb/deps.sh
	packaging/deb/build.sh

package-test: deps
	packaging/deb/deps.sh
	packaging/test/package-test.sh

boot-test: deps
	packaging/deb/deps.sh
	packaging/test/boot-test.sh

update-boot-test: deps
	packaging/deb/deps.sh
	packaging/test/update-boot-test.sh

# One run, every figure against a baseline measured in the same run; the
# report is docs/benchmarks.md. It fails if a goal is missed, after writing.
bench: deps
	@status=0; \
	$(GO) run ./agent/internal/cmd/outboxbench -producers 128 -out docs/benchmarks.md || status=1; \
	packaging/dev/bench-intake.sh >> docs/benchmarks.md || status=1; \
	packaging/dev/bench-freelist.sh >> docs/benchmarks.md || status=1; \
	packaging/dev/bench-idcard.sh >> docs/benchmarks.md || status=1; \
	packaging/dev/bench-ui.sh >> docs/benchmarks.md || status=1; \
	exit $$status
