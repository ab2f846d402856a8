package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/lore"
)

func cmdIngest(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", ".hearth/data", "data directory of the store")
	source := fs.String("source", "", "lore source name NPC scopes refer to, e.g. srd (required)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hearth ingest -source NAME [-data DIR] FOLDER")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *source == "" || fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("need -source and one folder")
	}
	if err := os.MkdirAll(*data, 0o755); err != nil {
		return err
	}
	st, err := store.Open(store.DefaultOptions(*data))
	if err != nil {
		return err
	}
	defer st.Close()
	lib, err := lore.Open(st, nil)
	if err != nil {
		return err
	}
	rep, err := lib.IngestDir(ctx, *source, fs.Arg(0))
	if err != nil {
		return err
	}
	for _, fe := range rep.Errors {
		fmt.Fprintln(stderr, fe.Error())
	}
	s := lib.Stats()
	fmt.Fprintf(stdout, "source %s: %d documents (%d updated, %d unchanged, %d removed), %d chunks, %d entities, %d errors in %v\n",
		rep.Source, rep.Documents, rep.Updated, rep.Skipped, rep.Removed, rep.Chunks, rep.Entities, len(rep.Errors), rep.Duration.Round(time.Millisecond))
	fmt.Fprintf(stdout, "store: %d documents, %d chunks, %d entities\n", s.Documents, s.Chunks, s.Entities)
	return nil
}
