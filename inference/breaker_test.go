package inference_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
)

func breakerRouter(t *testing.T, backends ...inference.Model) *inference.Router {
	t.Helper()
	r, err := inference.NewRouter(template.New(), backends, inference.RouterOptions{
		BreakerFailures: 3, BreakerCooldown: 40 * time.Millisecond, BreakerMaxCooldown: 80 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// waitCircuit polls until the backend's circuit is in state (cooldowns are
// wall-clock; the bound is generous so a loaded machine cannot fail it).
func waitCircuit(t *testing.T, r *inference.Router, name string, try func(), state string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for stats(r, name).Circuit != state {
		if time.Now().After(deadline) {
			t.Fatalf("circuit of %s is %s after 10 s, want %s", name, stats(r, name).Circuit, state)
		}
		time.Sleep(10 * time.Millisecond)
		try()
	}
}

// TestBreakerOpensProbesAndCloses: three failures open the circuit (no
// more calls, the floor answers at once); after the cooldown one probe
// goes through; a failed probe reopens it, a good one closes it.
func TestBreakerOpensProbesAndCloses(t *testing.T) {
	m := model("flaky", 1, time.Millisecond, "fine")
	m.err = errors.New("503 from the model server")
	r := breakerRouter(t, m)
	ask := func() inference.Result {
		res, _ := generate(t, r, time.Second)
		return res
	}
	for i := 0; i < 3; i++ {
		if res := ask(); !res.Floor {
			t.Fatalf("failing backend answered: %+v", res)
		}
	}
	st := stats(r, "flaky")
	if st.Circuit != inference.CircuitOpen || st.CircuitOpens != 1 || m.calls.Load() != 3 {
		t.Fatalf("after 3 failures: %+v, %d calls; want an open circuit", st, m.calls.Load())
	}
	ask()
	if m.calls.Load() != 3 || stats(r, "flaky").Rejects != 1 {
		t.Fatalf("an open circuit let a call through: %d calls, %+v", m.calls.Load(), stats(r, "flaky"))
	}
	// The probe fails: open again (and the cooldown doubles).
	waitCircuit(t, r, "flaky", func() { ask() }, inference.CircuitOpen)
	before := m.calls.Load()
	deadline := time.Now().Add(10 * time.Second)
	for m.calls.Load() == before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		ask()
	}
	if got := stats(r, "flaky"); m.calls.Load() != before+1 || got.Circuit != inference.CircuitOpen || got.CircuitOpens != 2 {
		t.Fatalf("failed probe: %d calls (want %d), %+v; want reopened", m.calls.Load(), before+1, got)
	}
	// The server recovers: the next probe closes the circuit.
	m.err = nil
	waitCircuit(t, r, "flaky", func() { ask() }, inference.CircuitClosed)
	if res := ask(); res.Floor || res.Text != "fine" {
		t.Fatalf("closed circuit, answer %+v", res)
	}
}

// TestBreakerCountsHangs: a backend that never answers in time opens its
// circuit like one that errors.
func TestBreakerCountsHangs(t *testing.T) {
	m := model("hangs", 1, time.Millisecond, "late")
	m.delay = time.Hour
	r := breakerRouter(t, m)
	// Each timeout teaches the estimator that the backend is slow, so a
	// request with the same budget would skip it; longer budgets still try.
	for _, budget := range []time.Duration{20 * time.Millisecond, 150 * time.Millisecond, time.Second} {
		generate(t, r, budget)
	}
	if st := stats(r, "hangs"); st.Circuit != inference.CircuitOpen || st.Timeouts != 3 {
		t.Fatalf("after 3 timeouts: %+v", st)
	}
}

// TestMaxInFlight: with one slot taken, the next request goes to the next
// tier instead of queueing on the backend.
func TestMaxInFlight(t *testing.T) {
	slow := model("gpu", 2, time.Millisecond, "slow", "answer")
	slow.delay = 300 * time.Millisecond
	slow.info.MaxInFlight = 1
	other := model("cpu", 1, time.Millisecond, "quick")
	r := breakerRouter(t, slow, other)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		r.Generate(ctx, dialogue, nil)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for stats(r, "gpu").InFlight == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	res, _ := generate(t, r, 2*time.Second)
	wg.Wait()
	if res.Backend != "cpu" || stats(r, "gpu").Rejects != 1 || slow.calls.Load() != 1 {
		t.Fatalf("second request: %+v, gpu %+v; want the cpu tier and one reject", res, stats(r, "gpu"))
	}
}

func TestBreakerOptionsValidated(t *testing.T) {
	if _, err := inference.NewRouter(template.New(), nil, inference.RouterOptions{BreakerFailures: -1}); err == nil {
		t.Fatal("negative BreakerFailures accepted")
	}
}

// TestUnsuitableRequestsDoNotOpenTheCircuit: a backend that refuses
// requests it cannot take (inference.ErrUnsuitable: a prompt too long for
// its context) is passed over for them, and its circuit stays closed.
func TestUnsuitableRequestsDoNotOpenTheCircuit(t *testing.T) {
	m := model("small", 1, time.Millisecond, "fine")
	m.err = fmt.Errorf("prompt of 900 tokens: %w", inference.ErrUnsuitable)
	r := breakerRouter(t, m)
	for i := 0; i < 10; i++ {
		if res, _ := generate(t, r, time.Second); !res.Floor {
			t.Fatalf("refusing backend answered: %+v", res)
		}
	}
	if st := stats(r, "small"); st.Circuit != inference.CircuitClosed || m.calls.Load() != 10 || st.Errors != 0 {
		t.Fatalf("after 10 unsuitable requests: %+v, %d calls; want a closed circuit and every request offered", st, m.calls.Load())
	}
}
