// Command protodeps writes the third-party .proto files that the Seleksi API
// imports (google/api, buf/validate, protoc-gen-openapiv2/options) into a
// directory, so that buf can compile api/ without the Buf Schema Registry.
//
// Code generation must work offline, with no network beyond the Go module
// proxy and npm. Rather than vendoring copies of those files, which would
// drift from the Go packages the service links, this program recovers them
// from the file descriptors compiled into those very Go packages (pinned by
// go.mod) and prints them back to .proto source. The output carries no
// comments, because compiled descriptors do not keep them; that does not
// change what the generators produce from our own files.
//
// Usage:
//
//	go run ./internal/tools/protodeps -out .protodeps
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jhump/protoreflect/desc"
	"github.com/jhump/protoreflect/desc/protoprint"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	// Imported for their side effect: registering the descriptors we print.
	_ "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	_ "github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2/options"
	_ "google.golang.org/genproto/googleapis/api/annotations"
)

// roots are the files api/seleksi/v1 imports; their imports are followed.
var roots = []string{
	"google/api/annotations.proto",
	"google/api/field_behavior.proto",
	"google/api/http.proto",
	"buf/validate/validate.proto",
	"protoc-gen-openapiv2/options/annotations.proto",
	"protoc-gen-openapiv2/options/openapiv2.proto",
}

func main() {
	out := flag.String("out", ".protodeps", "directory to write the .proto files into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "protodeps:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	files, err := collect(roots)
	if err != nil {
		return err
	}
	// Start from an empty directory so that a file dropped from roots does
	// not linger and keep compiling.
	if err := os.RemoveAll(out); err != nil {
		return fmt.Errorf("os.RemoveAll: %w", err)
	}
	printer := protoprint.Printer{Indent: "  "}
	for _, fd := range files {
		path := filepath.Join(out, filepath.FromSlash(fd.Path()))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("os.MkdirAll: %w", err)
		}
		if err := writeFile(path, func(w io.Writer) error {
			wrapped, err := desc.WrapFile(fd)
			if err != nil {
				return fmt.Errorf("desc.WrapFile(%s): %w", fd.Path(), err)
			}
			return printer.PrintProtoFile(wrapped, w)
		}); err != nil {
			return err
		}
	}
	return nil
}

// collect returns the named files and their transitive imports, leaving out
// google/protobuf/*, which buf ships itself. The result is sorted by path.
func collect(names []string) ([]protoreflect.FileDescriptor, error) {
	seen := map[string]protoreflect.FileDescriptor{}
	var visit func(name string) error
	visit = func(name string) error {
		if _, ok := seen[name]; ok || strings.HasPrefix(name, "google/protobuf/") {
			return nil
		}
		fd, err := protoregistry.GlobalFiles.FindFileByPath(name)
		if err != nil {
			return fmt.Errorf("protoregistry.FindFileByPath(%s): %w", name, err)
		}
		seen[name] = fd
		imports := fd.Imports()
		for i := range imports.Len() {
			if err := visit(imports.Get(i).Path()); err != nil {
				return err
			}
		}
		return nil
	}
	for _, name := range names {
		if err := visit(name); err != nil {
			return nil, err
		}
	}
	files := make([]protoreflect.FileDescriptor, 0, len(seen))
	for _, fd := range seen {
		files = append(files, fd)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path() < files[j].Path() })
	return files, nil
}

func writeFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("os.Create: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
	}()
	return write(f)
}
