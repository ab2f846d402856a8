package inference

// Prices are what a backend charges, in US dollars per million tokens
// (DESIGN §4: prices per backend in configuration). Cache reads and writes
// are prompt tokens a provider bills at their own rates (Anthropic's
// prompt caching); 0 bills them as input.
type Prices struct {
	InputPerMTok      float64
	OutputPerMTok     float64
	CacheReadPerMTok  float64
	CacheWritePerMTok float64
}

// Cost returns the US dollars a call with these token counts costs.
func (p Prices) Cost(input, output, cacheRead, cacheWrite int) float64 {
	read, write := p.CacheReadPerMTok, p.CacheWritePerMTok
	if read == 0 {
		read = p.InputPerMTok
	}
	if write == 0 {
		write = p.InputPerMTok
	}
	return (float64(input)*p.InputPerMTok + float64(output)*p.OutputPerMTok +
		float64(cacheRead)*read + float64(cacheWrite)*write) / 1e6
}
