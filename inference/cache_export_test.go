package inference

import "time"

// CacheOptionsAt returns o with the cache's wall clock replaced by now.
func CacheOptionsAt(o CacheOptions, now func() time.Time) CacheOptions {
	o.now = now
	return o
}
