package chaos

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
)

// Fault kinds, as counted in Counts.
const (
	FaultDuplicate  = "duplicate delivery"
	FaultReorder    = "reordered delivery"
	FaultDropSend   = "send dropped after commit"
	FaultCrashSend  = "crash between commit and send"
	FaultConflict   = "store conflict"
	FaultThrottle   = "store throttled"
	FaultLostWrite  = "write response lost"
	FaultControl    = "pause/resume/cancel"
	FaultCallback   = "duplicate callback"
	FaultKill       = "kill -9 of lazyflow serve"
	FaultRedelivery = "message redelivered after an error"
	// DeadLettered is not injected: it counts messages a host refused as
	// unprocessable (a stale recovery message, typically) and dead-lettered.
	DeadLettered = "dead-lettered message"
	// NeededRecover counts executions a Sweep left running that Recover
	// (what resume runs) then finished: work the sweeper does not re-send.
	NeededRecover = "left by Sweep for Recover"
)

// Schedule decides, from one seed, when each fault happens. Its rates are
// chances per opportunity (one send, one commit, one delivery); zero
// disables a fault. It is safe for concurrent use.
type Schedule struct {
	mu     sync.Mutex
	rng    *rand.Rand
	rates  map[string]float64
	counts map[string]int
	// offers counts the opportunities Hit was asked about, hit or not: a
	// fault that a case never gave a chance (no delegate, no callback)
	// cannot be expected to have happened.
	offers map[string]int
}

// NewSchedule returns a schedule with the given rates, seeded with seed.
func NewSchedule(seed uint64, rates map[string]float64) *Schedule {
	return &Schedule{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), rates: rates, counts: map[string]int{}, offers: map[string]int{}}
}

// Quiet is a schedule that injects nothing: the fault-free run.
func Quiet() *Schedule { return NewSchedule(1, nil) }

// Hit reports whether fault kind happens at this opportunity, and counts it.
func (s *Schedule) Hit(kind string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offers[kind]++
	r := s.rates[kind]
	if r <= 0 || s.rng.Float64() >= r {
		return false
	}
	s.counts[kind]++
	return true
}

// Count records a fault the caller injected itself (a kill, a control call).
func (s *Schedule) Count(kind string) {
	s.mu.Lock()
	s.counts[kind]++
	s.mu.Unlock()
}

// Intn is a number in [0, n) from the schedule's stream.
func (s *Schedule) Intn(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.IntN(n)
}

// Counts returns how many faults of each kind were injected.
func (s *Schedule) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyCounts(s.counts)
}

// Offers returns how many opportunities Hit had for each kind.
func (s *Schedule) Offers() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyCounts(s.offers)
}

func copyCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Rates is a mix of every in-process fault, each frequent enough that a
// short run meets all of them.
func Rates() map[string]float64 {
	return map[string]float64{
		FaultDuplicate: 0.15,
		FaultDropSend:  0.05,
		FaultCrashSend: 0.05,
		FaultConflict:  0.10,
		FaultThrottle:  0.05,
		FaultLostWrite: 0.05,
		FaultControl:   0.03,
		FaultCallback:  0.3,
	}
}

// Counts sums what runs did and found.
type Counts struct {
	mu         sync.Mutex
	Cases      int
	Executions int
	Faults     map[string]int
	Offers     map[string]int // opportunities for each rated fault
	Lost       int            // executions or results missing, or ending other than fault-free
	Doubled    int            // action attempts run more than once
	Stuck      int            // executions or tasks left RUNNING
	Elapsed    time.Duration  // the time the cases took, stores made and dropped included
}

func (c *Counts) addTime(d time.Duration) {
	c.mu.Lock()
	c.Elapsed += d
	c.mu.Unlock()
}

// Add merges one case's figures: the faults injected and the
// opportunities there were for them.
func (c *Counts) Add(executions int, faults, offers map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Cases++
	c.Executions += executions
	if c.Faults == nil {
		c.Faults, c.Offers = map[string]int{}, map[string]int{}
	}
	for k, v := range faults {
		c.Faults[k] += v
	}
	for k, v := range offers {
		c.Offers[k] += v
	}
}

// missChance bounds the chance that a correctly wired fault is never
// injected over the opportunities Unmet requires: with eight faults per
// suite run, a sound wiring fails the suite about once in 10^8 runs.
const missChance = 1e-9

// Unmet lists, sorted, the faults of rates that were never injected though
// they had so many opportunities that a working injection would have hit
// at least once but with chance missChance: (1-rate)^offers <= missChance.
// A fault offered fewer times (a run of few cases, or cases without the
// task kind it needs) is not required: its absence proves nothing.
func (c *Counts) Unmet(rates map[string]float64) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for kind, r := range rates {
		if r <= 0 || c.Faults[kind] > 0 {
			continue
		}
		if float64(c.Offers[kind])*math.Log1p(-r) <= math.Log(missChance) {
			out = append(out, kind)
		}
	}
	sort.Strings(out)
	return out
}

// String is a one-line summary.
func (c *Counts) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var kinds []string
	for k, v := range c.Faults {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(kinds)
	return fmt.Sprintf("cases=%d executions=%d lost=%d doubled=%d stuck=%d faults: %s",
		c.Cases, c.Executions, c.Lost, c.Doubled, c.Stuck, strings.Join(kinds, ", "))
}
