# Hearth — the two commands a new user needs: `make run` and `make test`.
GO       ?= go
ADDR     ?= 127.0.0.1:7777
DATA     ?= .hearth/data
SRD      ?= ../shared/data/srd-5.2/src
# The SRD is extra lore when it is present beside the checkout; the demo
# world alone works offline without it.
LORE_FLAGS := $(if $(wildcard $(SRD)),-lore srd=$(SRD),)

.PHONY: run test test-short fuzz bench soak demo chat model model-eval build vet fmt clean

## run: serve the demo world over WebSocket on ws://$(ADDR)/v1/ws (offline; the shipped model, the template floor and the cache)
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

## model: rebuild the shipped model (deterministic; about 2 hours on 2 cores), a copy
## curriculum (docs/models.md): stage 1 learns to copy in bare drills, stage 2 in the NPC prompt's
## layout, stages 3 to 5 train on the demo world's corpus with counterfactual (and spliced) lore
## answers and more drills, stages 4 and 5 ending in the mean of their snapshots; then the eval.
## The vocabulary is the committed model's (VOCAB_FROM).
MODEL_OUT ?= inference/embedded/shipped/hearth-village.gguf
VOCAB_FROM ?= inference/embedded/shipped/hearth-village.gguf
model: build
	mkdir -p .hearth
	./bin/hearth corpus -out "" -copy-drills .hearth/copy-bare.jsonl
	./bin/hearth corpus -out "" -copy-drills .hearth/copy-npc.jsonl -copy-layout npc -copy-items 30000
	./bin/hearth corpus -out .hearth/corpus-cf.jsonl -counterfactual 1
	./bin/hearth corpus -out "" -seed 2 -copy-drills .hearth/copy-npc2.jsonl -copy-layout npc -copy-items 16000
	cat .hearth/corpus-cf.jsonl .hearth/copy-npc2.jsonl > .hearth/stage3.jsonl
	./bin/hearth corpus -out .hearth/corpus-cfs.jsonl -seed 3 -counterfactual 1 -counterfactual-words 6 -splice 0.5
	./bin/hearth corpus -out "" -seed 3 -copy-drills .hearth/copy-npc3.jsonl -copy-layout npc -copy-items 16000
	cat .hearth/corpus-cfs.jsonl .hearth/copy-npc3.jsonl > .hearth/stage4.jsonl
	./bin/hearth corpus -out .hearth/corpus-cfs4.jsonl -seed 4 -counterfactual 1 -counterfactual-words 6 -splice 0.5
	./bin/hearth corpus -out "" -seed 4 -copy-drills .hearth/copy-npc4.jsonl -copy-layout npc -copy-items 16000
	cat .hearth/corpus-cfs4.jsonl .hearth/copy-npc4.jsonl > .hearth/stage5.jsonl
	./bin/hearth train -corpus .hearth/copy-bare.jsonl -tokenizer $(VOCAB_FROM) -out .hearth/stage1.gguf \
		-checkpoint .hearth/train1 -steps 600 -batch-tokens 2048 -ctx 96 -lr 3e-3 -val 0.02 -eval-every 100
	./bin/hearth train -corpus .hearth/copy-npc.jsonl -init .hearth/stage1.gguf -ctx 512 -out .hearth/unused.gguf \
		-checkpoint .hearth/train2 -snapshots -steps 700 -stop-at 400 -batch-tokens 4096 -lr 2e-3 -warmup 20 \
		-val 0.02 -eval-every 50
	cp .hearth/train2/step-400.gguf .hearth/stage2.gguf
	./bin/hearth train -corpus .hearth/stage3.jsonl -init .hearth/stage2.gguf -out .hearth/stage3.gguf \
		-checkpoint .hearth/train3 -steps 700 -batch-tokens 8192 -lr 1.5e-3 -warmup 20 -val 0.01 -eval-every 100
	./bin/hearth train -corpus .hearth/stage4.jsonl -init .hearth/stage3.gguf -out .hearth/stage4.gguf \
		-checkpoint .hearth/train4 -snapshots -steps 1000 -batch-tokens 8192 -lr 1e-3 -warmup 20 -seed 3 \
		-val 0.01 -eval-every 100
	./bin/hearth model-average -out .hearth/stage4avg.gguf .hearth/train4/step-400.gguf \
		.hearth/train4/step-500.gguf .hearth/train4/step-600.gguf .hearth/train4/step-700.gguf \
		.hearth/train4/step-800.gguf .hearth/train4/step-900.gguf .hearth/stage4.gguf
	./bin/hearth train -corpus .hearth/stage5.jsonl -init .hearth/stage4avg.gguf -out .hearth/stage5.gguf \
		-checkpoint .hearth/train5 -snapshots -steps 800 -batch-tokens 8192 -lr 5e-4 -warmup 20 -seed 4 \
		-val 0.01 -eval-every 100
	./bin/hearth model-average -name hearth-village -out $(MODEL_OUT) .hearth/train5/step-200.gguf \
		.hearth/train5/step-300.gguf .hearth/train5/step-400.gguf .hearth/train5/step-500.gguf \
		.hearth/train5/step-600.gguf .hearth/train5/step-700.gguf .hearth/stage5.gguf
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
