package server

import (
	"fmt"
	"math"
	"time"

	"golang.org/x/time/rate"

	"github.com/hearth-ai/hearth/middleware/protocol"
)

// Rate is a token bucket: PerSecond tokens are added each second, up to
// Burst; each frame takes one, and a frame that finds none is refused.
type Rate struct {
	// PerSecond is the sustained rate, in frames per second. 0 means no
	// limit.
	PerSecond float64
	// Burst is the bucket's size, in frames: how many may arrive at once
	// after a quiet spell. 0 means twice PerSecond, rounded up.
	Burst int
}

func (r Rate) limiter() *rate.Limiter {
	if r.PerSecond == 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(r.PerSecond), r.burst())
}

func (r Rate) burst() int {
	if r.Burst > 0 {
		return r.Burst
	}
	return max(1, int(math.Ceil(2*r.PerSecond)))
}

func (r Rate) check(name string) error {
	if r.PerSecond < 0 || math.IsNaN(r.PerSecond) || math.IsInf(r.PerSecond, 0) || r.Burst < 0 {
		return fmt.Errorf("server: Options.Limits.%s %+v: rate and burst must be 0 (no limit / default) or positive", name, r)
	}
	return nil
}

// Limits bound what one client can make the server do. The zero value
// limits nothing but frame sizes (as before limits existed); DefaultLimits
// is the production policy. docs/security.md states the policy and
// docs/protocol.md the error codes.
type Limits struct {
	// Conn limits the frames one connection may send, every frame counted
	// (ping and bad frames too). A refused frame is not decoded further
	// and gets error protocol.CodeRateLimited.
	Conn Rate
	// Player limits the frames a player (tenant and player_id) may send
	// over all its connections together, counted from hello on. A refused
	// frame gets protocol.CodePlayerRateLimited. The bucket lives while
	// the player has a connection.
	Player Rate
	// MaxInFlight caps the talk, bark and quest.request messages of one
	// connection that wait for their answer; one more is answered with
	// protocol.CodeTooManyInFlight and not queued. 0 means no cap.
	MaxInFlight int
	// ErrorReplies bounds the error frames a connection gets for frames
	// refused by Conn or Player, so a flood cannot make the server write
	// without bound. A refused frame beyond it gets no error of its own;
	// the next error the budget allows (id 0) counts them. The zero value
	// is 10 per second with a burst of 20.
	ErrorReplies Rate
	// Daily caps what each player (tenant and player_id) may consume per
	// UTC day; a talk or bark past it gets protocol.CodeQuotaExceeded.
	// The zero value caps nothing.
	Daily DailyQuota
}

// DefaultLimits is the policy `hearth serve` applies unless told
// otherwise: 20 frames/s per connection (burst 40), 30 frames/s per player
// (burst 60), 16 requests in flight per connection, and error replies for
// refused frames at 10/s (burst 20).
func DefaultLimits() Limits {
	return Limits{Conn: Rate{PerSecond: 20, Burst: 40}, Player: Rate{PerSecond: 30, Burst: 60}, MaxInFlight: 16,
		ErrorReplies: Rate{PerSecond: 10, Burst: 20}}
}

func (l *Limits) fill() error {
	if err := l.Daily.check(); err != nil {
		return err
	}
	if l.ErrorReplies.PerSecond == 0 { // no error budget is never meant: nil would be a nil limiter
		l.ErrorReplies = Rate{PerSecond: 10, Burst: 20}
	}
	for _, c := range []struct {
		name string
		r    Rate
	}{{"Conn", l.Conn}, {"Player", l.Player}, {"ErrorReplies", l.ErrorReplies}} {
		if err := c.r.check(c.name); err != nil {
			return err
		}
	}
	if l.MaxInFlight < 0 {
		return fmt.Errorf("server: Options.Limits.MaxInFlight %d: must be 0 (no cap) or positive", l.MaxInFlight)
	}
	return nil
}

// playerBucket is a player's shared token bucket and the number of its
// connections that hold it.
type playerBucket struct {
	lim  *rate.Limiter
	refs int
}

func playerKey(tenant, player string) string { return tenant + "\x00" + player }

// acquirePlayerLimiter returns the bucket of c's player (nil when there is
// no per-player limit) and counts c as one of its holders. Called by
// hello, on the read pump.
func (s *Server) acquirePlayerLimiter(c *conn) *rate.Limiter {
	if s.opts.Limits.Player.PerSecond == 0 {
		return nil
	}
	k := playerKey(c.principal.Tenant, c.playerID)
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.playerLims[k]
	if b == nil {
		b = &playerBucket{lim: s.opts.Limits.Player.limiter()}
		s.playerLims[k] = b
	}
	b.refs++
	return b.lim
}

// releasePlayerLimiterLocked drops c's hold on its player's bucket; s.mu is held.
func (s *Server) releasePlayerLimiterLocked(c *conn) {
	if c.playerLim == nil {
		return
	}
	k := playerKey(c.principal.Tenant, c.playerID)
	if b := s.playerLims[k]; b != nil {
		if b.refs--; b.refs <= 0 {
			delete(s.playerLims, k)
		}
	}
}

// admit decides, on the read pump, whether the frame just read is
// processed. A refused frame gets an error frame with its id while the
// error budget lasts, and is counted otherwise; the count is reported by
// the next error the budget allows.
func (c *conn) admit(frame []byte) bool {
	now := time.Now()
	code := ""
	switch {
	case c.connLim != nil && !c.connLim.AllowN(now, 1):
		code = protocol.CodeRateLimited
	case c.playerLim != nil && !c.playerLim.AllowN(now, 1):
		code = protocol.CodePlayerRateLimited
	}
	if code == "" {
		c.reportUnanswered(now)
		return true
	}
	c.s.metrics.limited.WithLabelValues(code).Inc()
	if !c.errLim.AllowN(now, 1) {
		c.unanswered++
		c.unansweredCode = code
		return false
	}
	// Decode only now, within the error budget, for the id to echo.
	f, _ := c.codec.Decode(frame)
	c.sendError(f.ID, code, c.limitMessage(code))
	return false
}

func (c *conn) limitMessage(code string) string {
	l := c.s.opts.Limits
	if code == protocol.CodePlayerRateLimited {
		return fmt.Sprintf("player %q is over %g frames/s (burst %d) across its connections; frame not processed, slow down",
			c.playerID, l.Player.PerSecond, l.Player.burst())
	}
	return fmt.Sprintf("connection is over %g frames/s (burst %d); frame not processed, slow down",
		l.Conn.PerSecond, l.Conn.burst())
}

// reportUnanswered sends the count of refused frames that got no error of
// their own, when there are some and the error budget allows.
func (c *conn) reportUnanswered(now time.Time) {
	if c.unanswered == 0 || !c.errLim.AllowN(now, 1) {
		return
	}
	c.sendError(0, c.unansweredCode, fmt.Sprintf("%d more frames were refused (%s) without an error of their own: over the error budget of %g errors/s",
		c.unanswered, c.unansweredCode, c.s.opts.Limits.ErrorReplies.PerSecond))
	c.unanswered = 0
}

// acquireInFlight counts a dialogue or quest request as waiting for its
// answer, or refuses it with protocol.CodeTooManyInFlight when the
// connection is at Limits.MaxInFlight. Each success is matched by one
// releaseInFlight when the request's route is deleted.
func (c *conn) acquireInFlight(id uint64) bool {
	n := c.inFlight.Add(1)
	if maxN := c.s.opts.Limits.MaxInFlight; maxN > 0 && int(n) > maxN {
		c.inFlight.Add(-1)
		c.s.metrics.limited.WithLabelValues(protocol.CodeTooManyInFlight).Inc()
		c.sendError(id, protocol.CodeTooManyInFlight,
			fmt.Sprintf("this connection already has %d requests waiting for their answer; wait for one", maxN))
		return false
	}
	return true
}

func (c *conn) releaseInFlight() { c.inFlight.Add(-1) }
