package lore

// IngestOption configures one IngestDir or IngestFS call.
type IngestOption func(*ingestConfig)

type ingestConfig struct {
	progress func(done, total int, path string)
}

// WithProgress makes the ingest call fn as it goes: once with done = 0 when
// the folder has been listed (total is then the number of lore files
// found), then after each file, read or skipped as unchanged, with its
// slash-separated path inside the source. fn runs on the ingesting
// goroutine, so it should be quick (update a progress bar, say).
func WithProgress(fn func(done, total int, path string)) IngestOption {
	return func(c *ingestConfig) { c.progress = fn }
}
