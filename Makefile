# Tumble build, test and packaging.
#
#   make run    install what is missing, build, start the GUI
#   make test   install what is missing, run every test (real servers, real Tor)
#   make check  fast checks: gofmt, vet, go.mod tidy, tests needing no service
#
# System packages come from apt (make deps, idempotent). Things Debian does
# not ship for bookworm are prepared once into $(TUMBLE_CACHE) and reused:
# a static libtor.a built from Debian's tor source package and the Mumble
# 1.5 server unpacked from Debian trixie's packages.

SHELL := /bin/bash
GO ?= go
TUMBLE_CACHE ?= $(HOME)/.cache/tumble
export TUMBLE_CACHE

# Tor version embedded in the app (Debian source package version).
TOR_VERSION ?= $(shell cat tor/libtor/TOR_VERSION)
LIBTOR_DIR := $(TUMBLE_CACHE)/libtor-$(TOR_VERSION)
MURMUR15_DIR := $(TUMBLE_CACHE)/murmur-1.5
export TUMBLE_MURMUR15_PREFIX := $(MURMUR15_DIR)

# cgo flags for the embedded Tor (package tor/libtor, build tag libtor).
LIBTOR_ENV = CGO_CFLAGS="-I$(LIBTOR_DIR)/include" \
	CGO_LDFLAGS="-L$(LIBTOR_DIR)/lib"

GOTAGS := nolibopusfile
GOTAGS_TOR := nolibopusfile,libtor

APT_PACKAGES := \
	build-essential pkg-config git ca-certificates \
	libopus-dev libspeexdsp-dev \
	mumble-server tor obfs4proxy snowflake-client libevent-dev libssl-dev zlib1g-dev dpkg-dev \
	protobuf-compiler \
	libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev \
	libxi-dev libxxf86vm-dev \
	espeak-ng sox strace xvfb imagemagick xdotool x11-utils pulseaudio tesseract-ocr \
	mumble torsocks sqlite3 openbox \
	aapt apksigner zipalign

STATICCHECK_VERSION ?= v0.6.1
GOBIN ?= $(shell $(GO) env GOPATH)/bin

.PHONY: all deps apt-deps libtor murmur15 tools build run test check \
	fmt-check tidy-check bench fuzz lint generate clean

all: build

## deps: install every system package and prepared dependency (idempotent).
deps: apt-deps libtor murmur15

apt-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: system packages present"; fi

libtor: apt-deps
	@tor/libtor/build-libtor.sh "$(TOR_VERSION)" "$(LIBTOR_DIR)"

murmur15: apt-deps
	@mumble/murmurtest/prepare-murmur15.sh "$(MURMUR15_DIR)"

tools:
	@command -v protoc-gen-go >/dev/null || $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11
	@test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## build: bin/tumble (GUI) and bin/tumble-cli, both with the embedded Tor.
build: libtor
	@mkdir -p bin
	$(LIBTOR_ENV) $(GO) build -tags $(GOTAGS_TOR) -o bin/tumble-cli ./cmd/tumble-cli
	$(LIBTOR_ENV) $(GO) build -tags $(GOTAGS_TOR) -o bin/tumble ./cmd/tumble

## run: set everything up and start the GUI.
run: deps build
	./bin/tumble

## test: set everything up and run all tests, integration included: the
## pure-Go packages must build for Android, and the Linux package must
## install into a temporary prefix and run.
test: deps check-android package-linux
	@mkdir -p bin
	$(LIBTOR_ENV) $(GO) build -tags $(GOTAGS_TOR) -o bin/tumble-cli ./cmd/tumble-cli
	TUMBLE_REQUIRE_SERVERS=1 TUMBLE_PACKAGE_TEST=1 TUMBLE_CLI=$(CURDIR)/bin/tumble-cli \
	$(LIBTOR_ENV) $(GO) test -tags $(GOTAGS_TOR) -timeout 25m -count=1 ./... 2>&1 | tee bin/test.log | \
		grep -Ev '^(=== RUN|=== PAUSE|=== CONT)' ; \
	status=$${PIPESTATUS[0]}; \
	pass=$$(grep -Ec '^ok ' bin/test.log); fail=$$(grep -Ec '^(FAIL|--- FAIL)' bin/test.log); \
	echo "go test summary: $$pass packages ok, $$fail failures"; \
	exit $$status

## check: the fast loop: gofmt, go vet, go.mod tidy and `go test -short` of
## every package. -short skips what needs a system service (Mumble servers,
## the private Tor network, PulseAudio, Xvfb) and the slow builds for
## Android; make test runs all of it. Needs only the C libraries (libopus,
## speexdsp, the GL headers), not libtor.
check: fmt-check tidy-check
	$(GO) vet -tags $(GOTAGS) ./...
	$(GO) test -tags $(GOTAGS) -short ./...

## fmt-check: fails when a Go file is not gofmt-formatted.
fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi

## tidy-check: fails when go.mod or go.sum differ from what go mod tidy
## writes (a direct dependency marked // indirect, a stale line).
tidy-check:
	@$(GO) mod tidy -diff || { echo "tidy-check: go.mod/go.sum are not tidy: run go mod tidy" >&2; exit 1; }

## bench: benchmarks; lines of the form "BENCH name=value unit".
bench: deps
	@mkdir -p bin
	$(LIBTOR_ENV) $(GO) build -tags $(GOTAGS_TOR) -o bin/tumble-cli ./cmd/tumble-cli
	TUMBLE_CLI=$(CURDIR)/bin/tumble-cli $(LIBTOR_ENV) TAGS=$(GOTAGS_TOR) bench/run.sh

## fuzz: a short run of every fuzz target over network decoders.
FUZZTIME ?= 20s
fuzz:
	@set -e; for pkg in $$($(GO) list -tags $(GOTAGS) ./...); do \
		for t in $$($(GO) test -tags $(GOTAGS) -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
			$(GO) test -tags $(GOTAGS) -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

## lint: gofmt, go.mod tidy, go vet, staticcheck.
lint: tools fmt-check tidy-check
	$(GO) vet -tags $(GOTAGS) ./...
	$(GOBIN)/staticcheck -tags $(GOTAGS) ./...

## generate: regenerate protobuf code (needs protoc and protoc-gen-go).
generate: tools
	$(GO) generate ./...

clean:
	rm -rf bin dist

# ---------------------------------------------------------------------------
# Packaging (Linux tarball, Android APKs) and the Android build check.

.PHONY: package-linux package-android check-android fyne-tool test-jni

FYNE_TOOLS_VERSION ?= v1.7.4
FYNE ?= $(GOBIN)/fyne
# The app's version: [Details] Version in FyneApp.toml.
APP_VERSION := $(shell sed -n 's/^[[:space:]]*Version[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' FyneApp.toml | head -n 1)
# Packaged binaries: no symbol tables, no build-machine paths (-trimpath),
# and the version printed by --version (cmd/tumble's main.version).
APP_LDFLAGS = -s -w -X main.version=$(APP_VERSION)
HOST_GOARCH := $(shell $(GO) env GOARCH)
PKG_LINUX := dist/tumble-$(APP_VERSION)-linux-$(HOST_GOARCH).tar.xz
# Packages that must build for Android without cgo (see the file).
ANDROID_PURE_PKGS = $(shell awk '$$1 == "pure" { print $$2 }' mobile/android-packages.txt)

## fyne-tool: the `fyne` packaging command at FYNE_TOOLS_VERSION.
fyne-tool:
	@$(FYNE) version 2>/dev/null | grep -qF 'cli version: $(FYNE_TOOLS_VERSION)' || \
		$(GO) install fyne.io/tools/cmd/fyne@$(FYNE_TOOLS_VERSION)

## package-linux: dist/tumble-VERSION-linux-ARCH.tar.xz: the GUI and
## tumble-cli with the embedded Tor linked in, its .desktop file and icon, and fyne's install
## Makefile (tar xf ...; make -C tumble install PREFIX=/usr/local).
# fyne package runs in a staging directory: it refuses a directory without
# Go code even when given the executable (hence the main.go link), and it
# rewrites FyneApp.toml (Build+1), which must not touch the tracked file.
# XZ_OPT=-T0 lets fyne's tar -J compress on every core.
package-linux: libtor fyne-tool
	@set -euo pipefail; stage=dist/.stage-linux; rm -rf $$stage; mkdir -p $$stage; \
	echo "package-linux: building tumble $(APP_VERSION) with the embedded Tor"; \
	$(LIBTOR_ENV) $(GO) build -trimpath -tags $(GOTAGS_TOR) -ldflags '$(APP_LDFLAGS)' \
		-o $$stage/tumble ./cmd/tumble; \
	cp FyneApp.toml $$stage/FyneApp.toml; \
	ln -s $(CURDIR)/cmd/tumble/main.go $$stage/main.go; \
	(cd $$stage && XZ_OPT=-T0 $(FYNE) package --os linux --release --executable tumble \
		--icon $(CURDIR)/mobile/icon/Icon.png); \
	$(LIBTOR_ENV) $(GO) build -trimpath -tags $(GOTAGS_TOR) -ldflags '-s -w' \
		-o $$stage/tumble-cli ./cmd/tumble-cli; \
	mkdir $$stage/x; tar -xJf $$stage/*.tar.xz -C $$stage/x; \
	bindir=$$(cd $$stage/x && dirname "$$(find . -path '*/bin/tumble' -type f | head -n 1)"); \
	install -m 0755 $$stage/tumble-cli $$stage/x/$$bindir/tumble-cli; \
	printf '%s\n' '' 'install: install-cli' 'uninstall: uninstall-cli' '.PHONY: install-cli uninstall-cli' \
		'install-cli:' "	install -Dm00755 $${bindir#./tumble/}/tumble-cli \$$(DESTDIR)\$$(PREFIX)/bin/tumble-cli" \
		'uninstall-cli:' '	-rm $$(DESTDIR)$$(PREFIX)/bin/tumble-cli' >> $$stage/x/tumble/Makefile; \
	(cd $$stage/x && XZ_OPT=-T0 tar -cJf ../repacked.tar.xz .); \
	mv $$stage/repacked.tar.xz $(PKG_LINUX); rm -rf $$stage; \
	echo "package-linux: $(PKG_LINUX) with tumble-cli ($$(du -h $(PKG_LINUX) | cut -f1))"

## package-android: dist/tumble-VERSION-android-ABI.apk for arm64-v8a,
## armeabi-v7a and x86_64, each with Tor built for it. Needs
## ANDROID_NDK_HOME (an Android NDK, r23 or later); stops with one line
## saying what is missing otherwise.
package-android:
	@APP_VERSION='$(APP_VERSION)' TOR_VERSION='$(TOR_VERSION)' TUMBLE_CACHE='$(TUMBLE_CACHE)' \
		FYNE='$(FYNE)' FYNE_TOOLS_VERSION='$(FYNE_TOOLS_VERSION)' GO='$(GO)' \
		mobile/package-android.sh

## check-android: every "pure" package of mobile/android-packages.txt builds
## for GOOS=android GOARCH=arm64 with CGO_ENABLED=0, and cmd/tumble with
## everything it needs type-checks for Android with cgo (androidcheck: no
## NDK needed; only the C calls themselves stay unchecked).
check-android:
	GOOS=android GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags $(GOTAGS) $(ANDROID_PURE_PKGS)
	@echo "check-android: $(words $(ANDROID_PURE_PKGS)) packages build for android/arm64 without cgo"
	$(GO) run ./mobile/internal/androidcheck -tags $(GOTAGS) -prefix github.com/tumble-voip/tumble ./cmd/tumble ./mobile/...

## test-jni: the JNI calls of mobile/internal/jni against stand-in Android
## classes in a desktop JVM (needs a JDK: javac, jni.h, libjvm).
JDK_HOME ?= $(shell j=$$(command -v javac) && dirname "$$(dirname "$$(readlink -f "$$j")")")
test-jni:
	@test -n "$(JDK_HOME)" && test -f "$(JDK_HOME)/include/jni.h" || \
		{ echo "test-jni: no JDK found (javac, jni.h): apt-get install openjdk-17-jdk-headless" >&2; exit 1; }
	CGO_CFLAGS="-I$(JDK_HOME)/include -I$(JDK_HOME)/include/linux" \
	CGO_LDFLAGS="-L$(JDK_HOME)/lib/server -Wl,-rpath,$(JDK_HOME)/lib/server" \
		$(GO) test -tags jnitest -count=1 ./mobile/internal/jni
