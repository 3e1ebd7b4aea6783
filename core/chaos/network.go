package chaos

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Network stands for the two queues between hosts. Messages wait in it
// until the harness delivers them, in the order the schedule picks; a
// message whose handler fails stays and comes back, as SQS's does after
// its visibility timeout. Delays are not waited for: a timer can only be
// delivered early, which the engine must tolerate as it tolerates a
// duplicate.
type Network struct {
	mu      sync.Mutex
	faults  *Schedule
	pending []Message
}

// Message is one queued message.
type Message struct {
	Queue string // "tasks" or "results"
	Body  []byte
}

// NewNetwork returns an empty network drawing its faults from s.
func NewNetwork(s *Schedule) *Network { return &Network{faults: s} }

// errCrashed is what a host sees when it "crashes" between its commit and
// its send: the step is committed, the message it meant to send is not.
var errCrashed = errors.New("chaos: injected crash between commit and send")

// Sender returns the sending side of queue q. With lossy set (an engine
// host's sends after a commit) a send may also be dropped or fail as a
// crash; otherwise (a runner's result, which it sends before its message
// is deleted) it may only be duplicated.
func (n *Network) Sender(q string, lossy bool) *Sender {
	return &Sender{n: n, q: q, lossy: lossy}
}

// Sender implements service.Sender over a Network.
type Sender struct {
	n     *Network
	q     string
	lossy bool
}

// Send implements service.Sender.
func (s *Sender) Send(ctx context.Context, body []byte, delay time.Duration) error {
	f := s.n.faults
	if s.lossy {
		if f.Hit(FaultCrashSend) {
			return errCrashed
		}
		if f.Hit(FaultDropSend) {
			return nil
		}
	}
	copies := 1
	if f.Hit(FaultDuplicate) {
		copies = 2
	}
	s.n.mu.Lock()
	defer s.n.mu.Unlock()
	for i := 0; i < copies; i++ {
		s.n.pending = append(s.n.pending, Message{Queue: s.q, Body: append([]byte(nil), body...)})
	}
	return nil
}

// Len is how many messages wait.
func (n *Network) Len() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.pending)
}

// Take removes and returns the next message: the oldest on a quiet
// schedule, any of them otherwise.
func (n *Network) Take() (Message, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.pending) == 0 {
		return Message{}, false
	}
	i := 0
	if len(n.pending) > 1 && n.faults.rates[FaultDuplicate] > 0 {
		i = n.faults.Intn(len(n.pending))
		if i > 0 {
			n.faults.Count(FaultReorder)
		}
	}
	m := n.pending[i]
	n.pending = append(n.pending[:i], n.pending[i+1:]...)
	return m, true
}

// Put returns a message whose handler failed, for redelivery.
func (n *Network) Put(m Message) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.pending = append(n.pending, m)
}
