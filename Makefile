# Everything the project needs is installed from here: Kafka and MirrorMaker 2 jars from Maven,
# the Pebble daemon from the Go module proxy. Nothing is assumed to be on the machine but Go,
# Java 17, Maven and root (for the sandbox's mount namespaces).

GO            ?= go
KAFKA_VERSION ?= 3.9.1
# The second Kafka line the sandbox tests run the main scenario on.
KAFKA4_VERSION ?= 4.1.1
CACHE         := $(CURDIR)/.cache
BUILD         := $(CURDIR)/build
CHARM         := $(BUILD)/mirrormaker-k8s.charm
PEBBLE        := $(CACHE)/bin/pebble
# charmcraft, from PyPI into its own venv, only to validate the YAMLs and lint the charm.
CHARMCRAFT_VERSION ?= 4.5.0
CHARMCRAFT_VENV    := $(CACHE)/charmcraft-$(CHARMCRAFT_VERSION)
CHARMCRAFT         := $(CHARMCRAFT_VENV)/bin/charmcraft
# ops from PyPI into its own venv, only for `make bench`: the minimal Python charm the hooks are
# compared with.
OPS_VERSION ?= 2.23.6
OPS_VENV    := $(CACHE)/ops-$(OPS_VERSION)

# Prometheus and promtool from Debian's package, only for the alert rules' tests (internal/cos):
# unpacked under .cache, never installed system-wide.
PROMETHEUS_DIR := $(CACHE)/prometheus

export PEBBLE_BIN     := $(PEBBLE)
export CHARM_FILE     := $(CHARM)

.PHONY: bench fuzz all build charm check-charm pebble prometheus kafka kafka4 lint unit test demo clean

all: build

## build: the charm's static dispatch binary and the sandbox CLI
build:
	@mkdir -p $(BUILD)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BUILD)/mirrormaker-k8s ./cmd/mirrormaker-k8s
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BUILD)/sandbox ./cmd/sandbox

## charm: a local .charm (dispatch + YAMLs) for the sandbox; `charmcraft pack` is the release path
charm: build
	@rm -rf $(BUILD)/charm && mkdir -p $(BUILD)/charm
	cp $(BUILD)/mirrormaker-k8s $(BUILD)/charm/dispatch
	cp metadata.yaml config.yaml actions.yaml $(BUILD)/charm/
	@rm -f $(CHARM)
	cd $(BUILD)/charm && zip -q -X -r $(CHARM) .

## check-charm: charmcraft.yaml, metadata.yaml, config.yaml and actions.yaml against charmcraft's
## own models, the project as charmcraft loads it (expand-extensions), and charmcraft's linters on
## the built charm: lint errors fail, warnings and unknown attributes (language, framework: a Go
## charm is neither Python nor ops) do not.
check-charm: charm $(CHARMCRAFT_VENV)/.installed
	$(CHARMCRAFT_VENV)/bin/python scripts/check-charm.py $(CURDIR)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && export XDG_RUNTIME_DIR="$$tmp" && \
	  cp charmcraft.yaml metadata.yaml config.yaml actions.yaml "$$tmp"/ && \
	  (cd "$$tmp" && $(CHARMCRAFT) expand-extensions >expanded.yaml) || \
	  { echo "check-charm: charmcraft expand-extensions failed"; exit 1; }; \
	  echo "check-charm: charmcraft expand-extensions: ok"; \
	  rc=0; $(CHARMCRAFT) analyse $(CHARM) || rc=$$?; case $$rc in \
	  0) ;; 3) echo "check-charm: charmcraft analyse: warnings only (allowed)";; \
	  *) echo "check-charm: charmcraft analyse: lint errors (exit $$rc)"; exit 1;; esac
$(CHARMCRAFT_VENV)/.installed:
	rm -rf $(CHARMCRAFT_VENV)
	python3 -m venv $(CHARMCRAFT_VENV)
	$(CHARMCRAFT_VENV)/bin/pip install -q --disable-pip-version-check charmcraft==$(CHARMCRAFT_VERSION)
	touch $@

$(OPS_VENV)/.installed:
	rm -rf $(OPS_VENV)
	python3 -m venv $(OPS_VENV)
	$(OPS_VENV)/bin/pip install -q --disable-pip-version-check ops==$(OPS_VERSION)
	touch $@

## pebble: the Pebble daemon, at the version of the client in go.mod
pebble: $(PEBBLE)
$(PEBBLE): go.mod go.sum
	@mkdir -p $(dir $@)
	$(GO) build -o $@ github.com/canonical/pebble/cmd/pebble

## prometheus: prometheus and promtool from Debian's package, through apt's own sources (no host
## named here), unpacked with dpkg-deb into .cache/prometheus; apt-get update only when the
## download fails on stale lists. They need only libc.
prometheus: $(PROMETHEUS_DIR)/.installed
$(PROMETHEUS_DIR)/.installed:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cd "$$tmp" && \
	  { apt-get download prometheus || { apt-get update && apt-get download prometheus; }; } && \
	  rm -rf $(PROMETHEUS_DIR) && dpkg-deb -x prometheus_*.deb $(PROMETHEUS_DIR)
	$(PROMETHEUS_DIR)/usr/bin/promtool --version
	$(PROMETHEUS_DIR)/usr/bin/prometheus --version
	touch $@

## kafka: Kafka and MirrorMaker 2 jars for the sandbox (cached)
kafka:
	scripts/install-kafka.sh $(KAFKA_VERSION) $(CACHE)/kafka-$(KAFKA_VERSION)
kafka4:
	scripts/install-kafka.sh $(KAFKA4_VERSION) $(CACHE)/kafka-$(KAFKA4_VERSION)

## lint: gofmt, go vet, no sandbox in the shipped binary, sarama only behind internal/kafka, and
## README.md's Layout naming every package
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if $(GO) list -deps ./cmd/mirrormaker-k8s | grep -q '/internal/sandbox'; then \
	  echo "the shipped binary imports the sandbox"; exit 1; fi
	@if $(GO) list -f '{{.ImportPath}}: {{join .Imports " "}}' $$($(GO) list -deps ./cmd/mirrormaker-k8s | grep '^mirrormaker-k8s/') | \
	  grep 'IBM/sarama' | grep -v '^mirrormaker-k8s/internal/kafka:'; then \
	  echo "only internal/kafka may speak sarama in the shipped binary"; exit 1; fi
	@for d in $$($(GO) list -f '{{.Dir}}' ./...); do rel=$${d#$(CURDIR)/}; \
	  grep -q "^$$rel/ " README.md || { echo "README.md's Layout does not list $$rel/"; exit 1; }; done

## unit: fast tests that need nothing installed
unit:
	$(GO) test -short ./...

## fuzz: each fuzz target for FUZZTIME, new inputs beyond its corpus (testdata/fuzz and the seeds,
## which every go test run replays); a failing input is written to testdata/fuzz to be checked in.
## No minimizing (-fuzzminimizetime 0): Go minimizes every new interesting input for up to a minute,
## and one found near the end of the 15 s outlived -fuzztime and failed the run with "context
## deadline exceeded" (CI, FuzzCredentialRoundTrip); a failing input is written as found. Even so
## the fuzzer at times fails a run that merely reached -fuzztime ("context deadline exceeded", no
## input written: CI, FuzzRender): only a run that wrote a failing input fails the target.
FUZZTIME ?= 15s
FUZZ_TARGETS = internal/mm2:FuzzRender internal/mm2:FuzzCredentialRoundTrip internal/kafkaclient:FuzzParse \
  charm:FuzzConfig charm:FuzzCutoverParams
fuzz:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "fuzz $$fn (./$$pkg) for $(FUZZTIME)"; \
	  out=$$($(GO) test -run XXX -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 0 ./$$pkg 2>&1); rc=$$?; \
	  echo "$$out"; if [ $$rc -ne 0 ]; then \
	    if echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
	      echo "fuzz $$fn: the run ended on its own deadline with no failing input (Go's fuzzer reports that as a failure at times): not a finding"; \
	    else exit 1; fi; fi; done

## test: lint, check-charm, fuzzing, unit and sandbox tests (real Kafka, real Pebble, real MM2, the shipped
## binary), then the main scenario and the consumer-protocol (KIP-848) groups test on Kafka $(KAFKA4_VERSION).
## Packages run one at a time (-p 1): the sandbox and Kafka tests each start JVMs, and two cores are all CI has.
test: lint charm check-charm pebble prometheus kafka kafka4 fuzz
	MM_REQUIRE_SANDBOX=1 KAFKA_VERSION=$(KAFKA_VERSION) $(GO) test -p 1 -count=1 -timeout 35m ./...
	MM_REQUIRE_SANDBOX=1 KAFKA_VERSION=$(KAFKA4_VERSION) $(GO) test -p 1 -count=1 -timeout 15m \
	  -run 'TestMainScenario|TestGivenAConsumerProtocolGroup' ./internal/sandbox/ ./internal/migration/

## bench: speed and cost, outside `make test` (about 15 minutes on 2 cores): the copy-rate table
## (BenchmarkCopyRate: Kafka's producer perf tool, a Go consume-produce pipe, the migration how-to's
## stock MM2 and the charm's MM2 on 1 and 2 units, on the same data; MM_BENCH_* shape it), the
## hooks (tool calls and time per dispatch), the leader's and the exporter's measurement (and the
## exporter's page) at 2,000 partitions and 200 groups, and the cutover's proof.
bench: charm pebble prometheus kafka $(OPS_VENV)/.installed
	$(GO) test -p 1 -count=1 -run XXX -bench CopyRate -benchtime 1x -timeout 2h ./internal/sandbox/
	MM_OPS_PYTHON=$(OPS_VENV)/bin/python $(GO) test -p 1 -count=1 -run XXX -bench . -benchtime 20x \
	  ./cmd/mirrormaker-k8s/ ./internal/workload/
	$(GO) test -p 1 -count=1 -run XXX -bench . -benchtime 3x -timeout 1h ./internal/migration/ ./internal/exporter/

## demo: the whole user flow against two local Kafka clusters, then tear down
demo: charm pebble kafka prometheus
	$(BUILD)/sandbox demo

clean:
	rm -rf $(BUILD) .sandbox
