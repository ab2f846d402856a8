package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/hearth-ai/hearth/config"
	"github.com/hearth-ai/hearth/middleware"
)

// otlpFlagHelp is -otlp-endpoint's usage line.
const otlpFlagHelp = "export OpenTelemetry spans of every request over OTLP/HTTP to this receiver, e.g. http://127.0.0.1:4318\n" +
	"(default: the config file's tracing.otlp_endpoint, else OTEL_EXPORTER_OTLP_ENDPOINT, else no tracing)"

// startTracing installs the global TracerProvider that exports over
// OTLP/HTTP when -otlp-endpoint (endpoint), the config file's tracing
// section or OTEL_EXPORTER_OTLP_ENDPOINT names a receiver, and returns the
// function that shuts it down, flushing queued spans (at most 5 s). With
// none it installs nothing and returns a no-op. It returns an error for
// an endpoint that is not an http(s) URL.
func startTracing(ctx context.Context, fs *flag.FlagSet, endpoint string, file *config.File, stderr io.Writer) (stop func(), err error) {
	opts := middleware.TracingOptions{Endpoint: endpoint}
	flagSet := false
	fs.Visit(func(f *flag.Flag) { flagSet = flagSet || f.Name == "otlp-endpoint" })
	if file != nil {
		if !flagSet {
			opts.Endpoint = file.Tracing.OTLPEndpoint
		}
		opts.ServiceName, opts.SampleRatio = file.Tracing.ServiceName, file.Tracing.SampleRatio
	}
	tp, err := middleware.NewTracerProvider(ctx, opts, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("-otlp-endpoint: %w", err)
	}
	if tp == nil {
		return func() {}, nil
	}
	otel.SetTracerProvider(tp)
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tp.Shutdown(sctx); err != nil {
			fmt.Fprintln(stderr, "hearth: tracing shutdown:", err)
		}
	}, nil
}
