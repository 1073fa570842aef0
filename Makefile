# The two commands: `make run` and `make test`. Everything else is a step they take.
BUILD    ?= build
JOBS     ?= 2
LISTEN   ?= 127.0.0.1:8080
DATA     ?= data
CMAKE_FLAGS ?= -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps build web run cluster test test-web bench bench-live fuzz screenshots clean

all: build

deps:
	@scripts/install-deps.sh

# The web UI: npm packages from the registry (locked by package-lock.json), built by Vite into
# web/dist, which vigil serves at /. Rebuilt only when its sources change.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts \
               web/tsconfig.json web/scripts/compress.mjs
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run --silent build
web: deps web/dist/index.html

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja web
	cmake --build $(BUILD) -j $(JOBS)

# Starts vigil on its embedded SQLite database with live, simulated demo investigations.
run: build
	@mkdir -p $(DATA)
	@test -s $(DATA)/jwt-secret || head -c 48 /dev/urandom | base64 -w0 > $(DATA)/jwt-secret
	$(BUILD)/vigil migrate --db $(DATA)/vigil.db
	VIGIL_JWT_SECRET="$$(cat $(DATA)/jwt-secret)" $(BUILD)/vigil serve --demo --listen $(LISTEN) \
	  --db $(DATA)/vigil.db --web-root web/dist

# PostgreSQL, three vigil nodes (the demo on one) and nginx in front, on this machine, in
# $(DATA)/cluster; `scripts/cluster.sh stop` stops them (docs/deploy.md).
cluster: build
	CLUSTER_DIR=$(DATA)/cluster scripts/cluster.sh start

test: build
	scripts/install-deps.sh --postgres
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600
	JOBS=$(JOBS) scripts/fuzz.sh --smoke
	$(MAKE) --no-print-directory test-web

# The UI's import boundaries (web/.dependency-cruiser.cjs), its unit tests (Vitest), then its
# end-to-end tests in Debian's Chromium against real vigils.
test-web: build
	scripts/install-deps.sh --browser
	cd web && npm run --silent lint:imports
	cd web && npm run --silent test
	cd web && VIGIL_BIN=../$(BUILD)/vigil npm run --silent e2e

# Screenshots of the main pages, for docs/ and the README.
screenshots: build
	scripts/install-deps.sh --browser
	cd web && VIGIL_BIN=../$(BUILD)/vigil node e2e/screenshots.mjs ../docs/screenshots

# Each libFuzzer target for FUZZ_SECONDS (default 60) from its corpus.
fuzz: deps
	JOBS=$(JOBS) scripts/fuzz.sh

bench: build
	scripts/install-deps.sh --bench
	bench/run.sh

bench-live: build
	scripts/install-deps.sh --bench
	bench/live.sh

clean:
	rm -rf $(BUILD)
