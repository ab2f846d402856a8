# Hearth — the two commands a new user needs: `make run` and `make test`.
GO       ?= go
ADDR     ?= 127.0.0.1:7777
DATA     ?= .hearth/data
SRD      ?= ../shared/data/srd-5.2/src
# The SRD is extra lore when it is present beside the checkout; the demo
# world alone works offline without it.
LORE_FLAGS := $(if $(wildcard $(SRD)),-lore srd=$(SRD),)

.PHONY: run test test-short fuzz bench soak demo chat model model-eval build vet fmt clean

## run: serve the demo world over WebSocket on ws://$(ADDR)/v1/ws (offline; template floor and cache, -model off)
run: build
	./bin/hearth serve -addr $(ADDR) -data $(DATA) $(LORE_FLAGS)

## test: vet, then every test (the race detector on the concurrent core)
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...
	$(GO) test -count=1 -race -timeout 20m ./middleware/... ./inference/... ./npc/ ./lore/ ./quest/

## fuzz: a short coverage-guided run of every fuzz target (FUZZTIME each, via scripts/fuzz.sh,
## which tells a found input from Go 1.26's fuzztime-boundary race; CI runs it after
## the tests); crashers land in the package's testdata/fuzz and become regression tests
FUZZTIME ?= 10s
fuzz:
	scripts/fuzz.sh ./middleware/protocol/ FuzzDecodeMsgpack $(FUZZTIME)
	scripts/fuzz.sh ./middleware/protocol/ FuzzDecodeJSON $(FUZZTIME)
	scripts/fuzz.sh ./lore/ FuzzParseFrontMatter $(FUZZTIME)
	scripts/fuzz.sh ./lore/ FuzzParseDocument $(FUZZTIME)
	scripts/fuzz.sh ./inference/template/ FuzzGenerate $(FUZZTIME)
	scripts/fuzz.sh ./npc/ FuzzPrepare $(FUZZTIME)
	scripts/fuzz.sh ./inference/embedded/gguf/ FuzzRead $(FUZZTIME)
	scripts/fuzz.sh ./inference/embedded/bpe/ FuzzRoundTrip $(FUZZTIME)
	scripts/fuzz.sh ./inference/embedded/constrain/ FuzzCompile $(FUZZTIME)

## bench: short latency benchmark: 200 WebSocket clients for 10 s against an in-process server,
## then the same open-loop load with and without the stack (every request to a simulated
## large model on loopback) side by side
bench: build
	./bin/hearth bench -clients 200 -duration 10s $(LORE_FLAGS)
	./bin/hearth bench -mode baseline -rate 100 -duration 10s -clients 100 $(LORE_FLAGS)

## soak: issue 9's soak: the sim for SOAK_DURATION against a `hearth serve` child whose remote
## model (llmsim behind inference/faultproxy) errs, stalls, sends malformed chunks and resets
## connections; prints goroutines and heap every 10 s and fails if they grow (docs/benchmarks.md)
SOAK_DURATION ?= 10m
soak: build
	./bin/hearth soak -duration $(SOAK_DURATION)

## demo: play the demo village in a window (Ebitengine; needs a display, see docs/demo.md):
## walk with the arrows, E to talk, Q for a quest, L for the quest log
demo:
	$(GO) run ./demo -data .hearth/game-data $(LORE_FLAGS)

## chat: talk to the demo world's NPCs from the terminal (no server needed; its own data
## directory, so it can run beside `make run`)
chat: build
	./bin/hearth chat -embedded -data .hearth/demo-data $(LORE_FLAGS)

## model: rebuild the shipped model from nothing (deterministic; about 1.5 hours on 2 cores):
## stage 1 trains a fresh tokenizer and model on the demo world's corpus, stage 2 continues
## on the corpus with counterfactual lore answers; then the eval. Model card: docs/models.md
MODEL_OUT ?= inference/embedded/shipped/hearth-village.gguf
model: build
	mkdir -p .hearth
	./bin/hearth corpus -out .hearth/corpus.jsonl
	./bin/hearth train -corpus .hearth/corpus.jsonl -out .hearth/stage1.gguf -checkpoint .hearth/train1 \
		-steps 450 -batch-tokens 8192 -val 0.01 -eval-every 50 -name hearth-village
	./bin/hearth corpus -out .hearth/corpus-cf.jsonl -counterfactual 1
	./bin/hearth train -corpus .hearth/corpus-cf.jsonl -init .hearth/stage1.gguf -out $(MODEL_OUT) \
		-checkpoint .hearth/train2 -steps 250 -lr 2e-3 -warmup 10 -seed 2 -batch-tokens 8192 \
		-val 0.01 -eval-every 50 -name hearth-village
	$(GO) build -o bin/hearth ./cmd/hearth
	./bin/hearth model-eval -model $(MODEL_OUT)

## model-eval: the shipped model's quality on the labeled held-out set
model-eval: build
	./bin/hearth model-eval

build:
	$(GO) build -o bin/hearth ./cmd/hearth

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin .hearth
