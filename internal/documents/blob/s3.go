package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says where an S3 store keeps its objects and how it signs in.
type S3Config struct {
	// Endpoint is host[:port] of the S3-compatible service, without a scheme.
	Endpoint string
	Bucket   string
	// Region is the bucket's region; empty lets the client ask the service.
	Region string
	// AccessKey and SecretKey come from the environment only, never flags, and never show in
	// logs or dumps (see Secret).
	AccessKey Secret
	SecretKey Secret
	// TLS selects https; only a loopback or otherwise private link should go without it.
	TLS bool
	// Prefix, when set, is prepended (with a slash) to every key, so one bucket can hold
	// several deployments' documents. It follows the key alphabet.
	Prefix string
	// CreateBucket makes the bucket when it is missing (development and tests); production
	// buckets are made by the operator with their retention and encryption settings.
	CreateBucket bool
}

// partSize is what a Put of unknown length buffers per multipart part. minio-go would
// otherwise size parts for a 5 TiB object and allocate over 500 MiB for each upload; 16 MiB
// parts still allow objects of 160 GiB, far above any document.
const partSize = 16 << 20

// S3 keeps objects in a bucket of an S3-compatible object store (AWS S3, MinIO, versitygw,
// SeaweedFS...). Objects are written without an ACL, so they stay private to the bucket's
// owner; the service streams them to authorized readers itself.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
}

var _ Store = (*S3)(nil)

// NewS3 connects to the object store and checks that the bucket exists (making it if
// cfg.CreateBucket is set), so a misconfiguration stops the service at start-up.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("blob: s3 needs an endpoint and a bucket")
	}
	if strings.Contains(cfg.Endpoint, "://") {
		return nil, fmt.Errorf("blob: s3 endpoint %q: want host[:port] without a scheme (TLS is its own setting)", cfg.Endpoint)
	}
	if cfg.Prefix != "" && !ValidKey(cfg.Prefix) {
		return nil, fmt.Errorf("blob: s3 prefix %q: want lowercase path segments like keys", cfg.Prefix)
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(string(cfg.AccessKey), string(cfg.SecretKey), ""),
		Secure: cfg.TLS,
		Region: cfg.Region,
		// Path-style requests work on every S3-compatible server and need no wildcard DNS.
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: s3 client for %s: %w", cfg.Endpoint, err)
	}
	s := &S3{client: client, bucket: cfg.Bucket}
	if cfg.Prefix != "" {
		s.prefix = cfg.Prefix + "/"
	}
	exists, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("blob: s3 bucket %s: %w", cfg.Bucket, err)
	}
	if !exists {
		if !cfg.CreateBucket {
			return nil, fmt.Errorf("blob: s3 bucket %s does not exist", cfg.Bucket)
		}
		err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		// Another replica starting at the same moment may have made it first.
		if err != nil && s3Code(err) != "BucketAlreadyOwnedByYou" {
			return nil, fmt.Errorf("blob: s3 make bucket %s: %w", cfg.Bucket, err)
		}
	}
	return s, nil
}

func (s *S3) object(key string) (string, error) {
	if !ValidKey(key) {
		return "", fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	return s.prefix + key, nil
}

// Put implements Store. A single PUT or a completed multipart upload is atomic on S3, and
// minio-go aborts a multipart upload that fails, so a failed Put leaves no object.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	body := readerWithContext(ctx, r)
	if size >= 0 {
		// minio-go reads exactly size bytes and would silently drop a longer body; the
		// exact reader fails the request instead, as the filesystem backend does.
		body = &exactReader{r: body, left: size}
	}
	_, err = s.client.PutObject(ctx, s.bucket, name, body, size, minio.PutObjectOptions{
		// The service sets the real type (sniffed at upload) when it serves a document.
		ContentType: "application/octet-stream",
		PartSize:    partSize,
	})
	if err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	return nil
}

// Open implements Store. It makes the GET at once, so a missing object is reported here
// rather than at the first Read. The body streams under ctx: reads fail once ctx is done, so
// the caller keeps ctx alive until it has closed the reader.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, err
	}
	// The plain GET of minio.Core, not Client.GetObject: the latter's reader makes a HEAD and
	// then a GET conditional on the HEAD's ETag, which fails with 412 when a concurrent Put
	// replaces the object between the two. One GET reads one whole version.
	body, _, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.fail(ctx, "open", key, err)
	}
	return body, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	name, err := s.object(key)
	if err != nil {
		return Info{}, err
	}
	oi, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s.fail(ctx, "stat", key, err)
	}
	return Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}, nil
}

// Delete implements Store. On a versioned bucket this adds a delete marker; earlier versions
// stay until the bucket's lifecycle rules expire them.
func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil && s3Code(err) != "NoSuchKey" {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}

// Check implements Store with the cheapest authenticated call there is, a HEAD of the bucket:
// it proves the endpoint answers, the keys are accepted and the bucket is there.
func (s *S3) Check(ctx context.Context) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("blob: check: %w", err)
	}
	if !exists {
		return fmt.Errorf("blob: check: bucket %s does not exist", s.bucket)
	}
	return nil
}

// fail wraps an S3 error, turning a missing object into ErrNotFound. A missing bucket stays an
// error of its own: it is a broken deployment, not an absent document. A HEAD response has no
// body to tell the two apart (minio-go calls every 404 on an object NoSuchKey), so a 404 is
// confirmed with a HEAD of the bucket; missing objects are rare enough for the extra call.
func (s *S3) fail(ctx context.Context, op, key string, err error) error {
	if s3Code(err) == "NoSuchKey" {
		exists, berr := s.client.BucketExists(ctx, s.bucket)
		if berr != nil {
			return fmt.Errorf("blob: %s %s: %w (and checking the bucket: %w)", op, key, err, berr)
		}
		if !exists {
			return fmt.Errorf("blob: %s %s: bucket %s does not exist", op, key, s.bucket)
		}
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("blob: %s %s: %w", op, key, err)
}

// s3Code is the S3 error code of err, or "" when it is not an S3 error response.
func s3Code(err error) string {
	var resp minio.ErrorResponse
	if !errors.As(err, &resp) {
		return ""
	}
	return resp.Code
}

// errTooLong is returned by exactReader for a reader longer than the size given.
var errTooLong = errors.New("reader holds more bytes than the size given")

// exactReader fails when its reader ends before left bytes or holds more than left bytes.
// It looks for a further byte as soon as the last expected one is read, so the upload fails
// before the client can finish the request, whatever the client reads afterwards.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	switch {
	case err == io.EOF && e.left > 0:
		return n, io.ErrUnexpectedEOF
	case err != nil && err != io.EOF:
		return n, err
	case e.left > 0:
		return n, nil
	}
	// The last bytes are withheld when more follow: io.ReadFull, which clients use to fill
	// their buffers, drops an error that comes with enough bytes.
	var one [1]byte
	m, err := io.ReadFull(e.r, one[:])
	switch {
	case m > 0:
		return 0, errTooLong
	case err == io.EOF:
		return n, io.EOF
	default:
		return 0, err
	}
}
