// Package blobstore keeps large values in S3 for the DynamoDB store: a value
// too big for a DynamoDB item is written once under a content-addressed key
// (its SHA-256), and the item holds only the key. Content addressing makes a
// repeated write of the same value (a redelivered result, a retried commit)
// a harmless overwrite with the same bytes, so the store never has to ask
// whether an object exists first.
//
// Objects are never deleted by Lazyflow: two executions may share one, and a
// commit that failed after its upload leaves an unreferenced one. The
// bucket's lifecycle rule expires them (infra: valueRetentionDays), which
// must therefore exceed the longest execution plus the store's retention.
package blobstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ErrNotFound: no object under the key (expired by the lifecycle rule, or
// never written).
var ErrNotFound = errors.New("value not found in the blob store")

// ErrMismatch: the object read does not match the hash its key names.
var ErrMismatch = errors.New("value does not match its content hash")

// Store is a bucket (and key prefix) of content-addressed values.
type Store struct {
	client *s3.Client
	bucket string
	prefix string
}

// New returns a store writing under prefix (e.g. "values/") in bucket. On
// emulators, build the client with UsePathStyle.
func New(client *s3.Client, bucket, prefix string) *Store {
	return &Store{client: client, bucket: bucket, prefix: prefix}
}

// Key is the key data is stored under.
func (s *Store) Key(data []byte) string {
	sum := sha256.Sum256(data)
	return s.prefix + "sha256/" + hex.EncodeToString(sum[:])
}

// Put stores data and returns its key.
func (s *Store) Put(ctx context.Context, data []byte) (string, error) {
	key := s.Key(data)
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String("application/json"),
	})
	if err != nil {
		return "", fmt.Errorf("store %d-byte value in s3://%s/%s: %w", len(data), s.bucket, key, err)
	}
	return key, nil
}

// Get reads the value stored under key and checks it against the key's hash.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, fmt.Errorf("s3://%s/%s: %w", s.bucket, key, ErrNotFound)
		}
		return nil, fmt.Errorf("read value s3://%s/%s: %w", s.bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read value s3://%s/%s: %w", s.bucket, key, err)
	}
	if s.Key(data) != key {
		return nil, fmt.Errorf("value s3://%s/%s (%d bytes read): %w", s.bucket, key, len(data), ErrMismatch)
	}
	return data, nil
}

// EnsureBucket creates the bucket if it does not exist (tests and local
// mode; deployments create it with the stack).
func (s *Store) EnsureBucket(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)}); err == nil {
		return nil
	}
	_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("create bucket %s: %w", s.bucket, err)
	}
	return nil
}
