package dynamostore

import (
	"math"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Stats counts what a Store asked of DynamoDB. Capacity is kept in
// thousandths of a unit so it can be added atomically.
type Stats struct {
	Requests     atomic.Int64
	ReadMilli    atomic.Int64 // consumed read capacity units × 1000
	WriteMilli   atomic.Int64 // consumed write capacity units × 1000
	BytesWritten atomic.Int64 // approximate size of the items and updates sent
	Retries      atomic.Int64
	Conflicts    atomic.Int64
	Offloaded    atomic.Int64 // values written to the blob store
}

// Snapshot is a copy of Stats at one moment.
type Snapshot struct {
	Requests, BytesWritten, Retries, Conflicts, Offloaded int64
	RCU, WCU                                              float64
}

// Snapshot reads the counters.
func (s *Stats) Snapshot() Snapshot {
	return Snapshot{Requests: s.Requests.Load(), BytesWritten: s.BytesWritten.Load(), Retries: s.Retries.Load(),
		Conflicts: s.Conflicts.Load(), Offloaded: s.Offloaded.Load(),
		RCU: float64(s.ReadMilli.Load()) / 1000, WCU: float64(s.WriteMilli.Load()) / 1000}
}

// Sub is the difference s - o.
func (s Snapshot) Sub(o Snapshot) Snapshot {
	return Snapshot{Requests: s.Requests - o.Requests, BytesWritten: s.BytesWritten - o.BytesWritten,
		Retries: s.Retries - o.Retries, Conflicts: s.Conflicts - o.Conflicts, Offloaded: s.Offloaded - o.Offloaded,
		RCU: s.RCU - o.RCU, WCU: s.WCU - o.WCU}
}

func milli(f *float64) int64 {
	if f == nil {
		return 0
	}
	return int64(math.Round(*f * 1000))
}

func (s *Stats) addCapacity(cc []types.ConsumedCapacity, read bool) {
	for _, c := range cc {
		r, w := milli(c.ReadCapacityUnits), milli(c.WriteCapacityUnits)
		if r == 0 && w == 0 && c.CapacityUnits != nil {
			// DynamoDB Local reports only the total: the request says which.
			if read {
				r = milli(c.CapacityUnits)
			} else {
				w = milli(c.CapacityUnits)
			}
		}
		s.ReadMilli.Add(r)
		s.WriteMilli.Add(w)
	}
}
