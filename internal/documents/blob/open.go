package blob

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Backends Open knows.
const (
	BackendFS = "fs"
	BackendS3 = "s3"
)

// Options chooses and configures the document store; internal/config fills it from flags
// and environment.
type Options struct {
	// Backend is BackendFS (the default when empty) or BackendS3.
	Backend string
	// Dir is the filesystem store's root.
	Dir string
	// S3 configures the S3 store.
	S3 S3Config
}

// Validate reports settings that cannot work, naming what is missing.
func (o Options) Validate() error {
	switch o.Backend {
	case "", BackendFS:
		if o.Dir == "" {
			return errors.New("the filesystem document store needs a directory")
		}
	case BackendS3:
		var missing []error
		if o.S3.Endpoint == "" {
			missing = append(missing, errors.New("the S3 document store needs an endpoint"))
		}
		if o.S3.Bucket == "" {
			missing = append(missing, errors.New("the S3 document store needs a bucket"))
		}
		if strings.Contains(o.S3.Endpoint, "://") {
			missing = append(missing, fmt.Errorf("S3 endpoint %q: want host[:port] without a scheme", o.S3.Endpoint))
		}
		if o.S3.AccessKey == "" || o.S3.SecretKey == "" {
			missing = append(missing, errors.New("the S3 document store needs an access key and a secret key"))
		}
		if o.S3.Prefix != "" && !ValidKey(o.S3.Prefix) {
			missing = append(missing, fmt.Errorf("S3 prefix %q: want lowercase path segments (a-z, 0-9, '-', '_', '.')", o.S3.Prefix))
		}
		return errors.Join(missing...)
	default:
		return fmt.Errorf("document store %q: want %s or %s", o.Backend, BackendFS, BackendS3)
	}
	return nil
}

// Open builds the store the options choose. For S3 it reaches the service to check the
// bucket, so ctx should carry a start-up deadline.
func Open(ctx context.Context, o Options) (Store, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	if o.Backend == BackendS3 {
		return NewS3(ctx, o.S3)
	}
	return NewFS(o.Dir)
}
