package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/lore"
	"github.com/schollz/progressbar/v3"
)

// cmdIngest ingests one folder of lore into the store and reports, on
// stdout, the source's documents, chunks and entities (by type) and the
// wall time; files skipped or warned about go to stderr, one line each, with
// their path and line. A progress bar (files done of files found) is drawn
// on stderr when stderr is a terminal, or always with -progress on.
func cmdIngest(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", ".hearth/data", "data directory of the store")
	source := fs.String("source", "", "lore source name NPC scopes refer to, e.g. srd (required)")
	progress := fs.String("progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), on or off")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hearth ingest -source NAME [-data DIR] [-progress auto|on|off] FOLDER")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *source == "" || fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("need -source and one folder")
	}
	var showBar bool
	switch *progress {
	case "auto":
		showBar = isTerminal(stderr)
	case "on":
		showBar = true
	case "off":
	default:
		fs.Usage()
		return fmt.Errorf("-progress %q: want auto, on or off", *progress)
	}
	if err := os.MkdirAll(*data, 0o755); err != nil {
		return err
	}
	st, err := store.Open(store.DefaultOptions(*data))
	if err != nil {
		return err
	}
	defer st.Close()
	// The command prints skipped files and warnings itself, one line each;
	// the library's log keeps only errors.
	// The same library the server opens: ingest trains (or reuses) the
	// embedded LSA embedder and embeds the new chunks, so the server's
	// start only loads them.
	lib, err := lore.OpenWith(ctx, st, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})), lore.Options{LSA: true})
	if err != nil {
		return err
	}
	var opts []lore.IngestOption
	var bar *progressbar.ProgressBar
	if showBar {
		opts = append(opts, lore.WithProgress(func(done, total int, _ string) {
			if bar == nil {
				bar = progressbar.NewOptions(total,
					progressbar.OptionSetWriter(stderr),
					progressbar.OptionSetDescription("ingest "+*source),
					progressbar.OptionShowCount(),
					progressbar.OptionSetItsString("files"),
					progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionClearOnFinish())
			}
			_ = bar.Set(done)
		}))
	}
	rep, err := lib.IngestDir(ctx, *source, fs.Arg(0), opts...)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return err
	}
	for _, fe := range rep.Errors {
		fmt.Fprintln(stderr, "skipped:", fe.Error())
	}
	for _, fe := range rep.Warnings {
		fmt.Fprintln(stderr, "warning:", fe.Error())
	}
	fmt.Fprintf(stdout, "source %s: %d documents (%d updated, %d unchanged, %d removed), %d chunks, %d entities, %d errors, %d warnings in %v\n",
		rep.Source, rep.Documents, rep.Updated, rep.Skipped, rep.Removed, rep.Chunks, rep.Entities, len(rep.Errors), len(rep.Warnings), rep.Duration.Round(time.Millisecond))
	byType := map[string]int{}
	for _, e := range lib.Entities().All() {
		if e.Source == *source {
			byType[cmp.Or(e.Type, "untyped")]++
		}
	}
	if len(byType) > 0 {
		types := make([]string, 0, len(byType))
		for t := range byType {
			types = append(types, t)
		}
		sort.Strings(types)
		parts := make([]string, len(types))
		for i, t := range types {
			parts[i] = fmt.Sprintf("%d %s", byType[t], t)
		}
		fmt.Fprintf(stdout, "entities of %s by type: %s\n", rep.Source, strings.Join(parts, ", "))
	}
	s := lib.Stats()
	fmt.Fprintf(stdout, "store: %d documents, %d chunks, %d entities\n", s.Documents, s.Chunks, s.Entities)
	return nil
}

// isTerminal reports whether w is a character device (a terminal), without
// a dependency on a terminal library.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
