package dynamostore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lazyflow/lazyflow/core/store"
)

// class is what the store does about an error.
type class int

const (
	fatal     class = iota // report with context
	conflict               // store.ErrConflict: the host recomputes
	retryable              // throttling, 5xx, network: retry here, then ErrUnavailable
	tooLarge               // store.ErrTooLarge
)

// classify sorts a DynamoDB error and names it by its error code (never its
// full SDK text, which carries request ids and HTTP details).
func classify(err error) (class, string) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return conflict, "ConditionalCheckFailed"
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		worst, codes := conflict, []string{}
		for _, r := range tce.CancellationReasons {
			code := ""
			if r.Code != nil {
				code = *r.Code
			}
			if code == "" || code == "None" {
				continue
			}
			codes = append(codes, code)
			switch code {
			case "ConditionalCheckFailed", "TransactionConflict":
			case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
				if worst == conflict {
					worst = retryable
				}
			case "ValidationError":
				if r.Message != nil && isSizeMessage(*r.Message) {
					worst = tooLarge
				} else {
					worst = fatal
				}
			default:
				worst = fatal
			}
		}
		return worst, "TransactionCanceled[" + strings.Join(codes, ",") + "]"
	}
	var tc *types.TransactionConflictException
	if errors.As(err, &tc) {
		return conflict, "TransactionConflict"
	}
	var tip *types.TransactionInProgressException
	if errors.As(err, &tip) {
		return retryable, "TransactionInProgress"
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		switch code {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"InternalServerError", "ServiceUnavailable", "LimitExceededException":
			return retryable, code
		case "ValidationException":
			if isSizeMessage(api.ErrorMessage()) {
				return tooLarge, code
			}
			return fatal, code + ": " + api.ErrorMessage()
		case "ResourceNotFoundException":
			return fatal, code + " (does the table exist?)"
		}
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
			return retryable, code
		}
		return fatal, code + ": " + api.ErrorMessage()
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &ne) || errors.As(err, &oe) {
		return retryable, "network error"
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return retryable, fmt.Sprintf("HTTP %d", re.HTTPStatusCode())
	}
	if strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "connection reset") {
		return retryable, "network error"
	}
	return fatal, "request failed"
}

func isSizeMessage(m string) bool {
	m = strings.ToLower(m)
	return strings.Contains(m, "item size") || strings.Contains(m, "maximum allowed size") || strings.Contains(m, "size has exceeded")
}

// call runs one write request with the store's retries and accounting.
func (s *driver) call(ctx context.Context, what string, fn func() ([]types.ConsumedCapacity, error)) error {
	return s.request(ctx, what, false, fn)
}

// read is call for a read request.
func (s *driver) read(ctx context.Context, what string, fn func() ([]types.ConsumedCapacity, error)) error {
	return s.request(ctx, what, true, fn)
}

func (s *driver) request(ctx context.Context, what string, read bool, fn func() ([]types.ConsumedCapacity, error)) error {
	for try := 0; ; try++ {
		s.stats.Requests.Add(1)
		cc, err := fn()
		s.stats.addCapacity(cc, read)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s in table %s: %w", what, s.opt.Table, ctx.Err())
		}
		cl, code := classify(err)
		switch cl {
		case conflict:
			s.stats.Conflicts.Add(1)
			return fmt.Errorf("%s: %s: %w", what, code, store.ErrConflict)
		case tooLarge:
			return fmt.Errorf("%s: %s: %w", what, code, store.ErrTooLarge)
		case retryable:
			if try < s.opt.MaxRetries {
				s.stats.Retries.Add(1)
				s.sleep(ctx, try)
				continue
			}
			return fmt.Errorf("%s in table %s: %s after %d tries: %w", what, s.opt.Table, code, try+1, store.ErrUnavailable)
		}
		return fmt.Errorf("%s in table %s: %s", what, s.opt.Table, code)
	}
}

// sleep waits a jittered, doubling, bounded time (full jitter, cap 2 s).
func (s *driver) sleep(ctx context.Context, try int) {
	ceil := min(25*time.Millisecond<<min(try, 10), 2*time.Second)
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(ceil)))
	t := time.NewTimer(time.Duration(n.Int64()))
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
