# The two commands: `make run` and `make test`. Everything else is a step they take.
BUILD    ?= build
JOBS     ?= 2
LISTEN   ?= 127.0.0.1:8080
DATA     ?= data
CMAKE_FLAGS ?= -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps build run test bench bench-live fuzz clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Starts vigil on its embedded SQLite database with live, simulated demo investigations.
run: build
	@mkdir -p $(DATA)
	@test -s $(DATA)/jwt-secret || head -c 48 /dev/urandom | base64 -w0 > $(DATA)/jwt-secret
	$(BUILD)/vigil migrate --db $(DATA)/vigil.db
	VIGIL_JWT_SECRET="$$(cat $(DATA)/jwt-secret)" $(BUILD)/vigil serve --demo --listen $(LISTEN) --db $(DATA)/vigil.db

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600
	JOBS=$(JOBS) scripts/fuzz.sh --smoke

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
