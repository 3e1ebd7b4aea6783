package dynamostore

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lazyflow/lazyflow/core/store"
)

// Index names, fixed by the infrastructure (infra.IndexByWorkflow/ByState).
const (
	IndexByWorkflow = "byWorkflow"
	IndexByState    = "byState"
)

// Blobs keeps values too large for an item (package blobstore over S3).
// Get wraps blobstore.ErrNotFound or blobstore.ErrMismatch for a value that
// is gone or damaged (the record needs repair: store.ErrCorrupt); any other
// error is taken for an outage (store.ErrUnavailable).
type Blobs interface {
	Put(ctx context.Context, data []byte) (key string, err error)
	Get(ctx context.Context, key string) ([]byte, error)
}

// Options configures a Store.
type Options struct {
	Table string
	// Blobs receives values over OffloadAt; nil keeps every value inline
	// (up to what an item holds).
	Blobs Blobs
	// OffloadAt is the encoded size above which a value goes to Blobs (default 64 KiB).
	OffloadAt int
	// MaxValue is the largest encoded record accepted at all (default 4 MiB).
	MaxValue int
	// Retention is how long a finished execution is kept: PurgeExecutions
	// (the sweeper) deletes it then; its head's ttl falls due a week later as
	// a backstop (default 30 days; negative: no ttl).
	Retention time.Duration
	// MaxRetries bounds the retries of throttled or failed requests (default 6).
	MaxRetries int
	Now        func() time.Time
	// Log receives what the store cannot report to a caller: a clean-up
	// that failed after the caller's outcome was decided (default
	// slog.Default()).
	Log *slog.Logger
}

// driver is the store.Driver over a DynamoDB table.
type driver struct {
	c     *dynamodb.Client
	opt   Options
	table *string
	stats Stats
}

// Store is the store.Store over a DynamoDB table: the portable layer over
// this package's driver, with what only this driver has.
type Store struct {
	*store.Portable
	d *driver
	// Stats counts what the store asked of DynamoDB.
	Stats *Stats
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Driver = (*driver)(nil)
)

// inlineMax is the largest value kept in an item when there is no blob
// store: DynamoDB's item limit is 400 KB, names and other attributes included.
const inlineMax = 380 << 10

// New returns a store over an existing table (see CreateTable).
func New(client *dynamodb.Client, opt Options) *Store {
	if opt.OffloadAt <= 0 {
		opt.OffloadAt = 64 << 10
	}
	if opt.MaxValue <= 0 {
		opt.MaxValue = 4 << 20
	}
	if opt.Retention == 0 {
		opt.Retention = 30 * 24 * time.Hour
	}
	if opt.MaxRetries <= 0 {
		opt.MaxRetries = 6
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	d := &driver{c: client, opt: opt, table: aws.String(opt.Table)}
	return &Store{Portable: store.Open(d), d: d, Stats: &d.stats}
}

// Close implements store.Driver; the client needs no closing.
func (s *driver) Close() error { return nil }

// TableName is the table the store uses.
func (s *Store) TableName() string { return s.d.opt.Table }
