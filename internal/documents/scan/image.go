package scan

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"strconv"
)

// imageMarkers are looked for in an image's metadata (JPEG segments other than the
// compressed scan, PNG chunks other than IDAT), where payloads of other formats hide:
// comments, EXIF, text chunks. The compressed picture data is left alone, since random
// bytes match short markers there by chance.
var imageMarkers = append([]marker{{"pk\x03\x04", "ZIP"}}, headMarkers...)

// inspectImage checks a JPEG or PNG: its structure up to its end marker (and nothing after
// it), its dimensions from the header before anything is decoded (a decompression bomb
// declares a huge canvas in a small file and is refused without allocating it), then a
// full decode, which proves the picture data is complete and well-formed.
func inspectImage(ctx context.Context, r io.ReaderAt, size int64, p Policy, mediaType string, res *Result) error {
	name := formatName(mediaType)
	var end int64
	var other string
	var err error
	if mediaType == PNG {
		end, other, err = pngEnd(r, size)
	} else {
		end, other, err = jpegEnd(r, size)
	}
	if err != nil {
		var rej *Rejection
		if errors.As(err, &rej) {
			return err
		}
		return reject(CodeImageMalformed, "type", name)
	}
	if other != "" {
		return reject(CodePolyglot, "type", name, "other", other)
	}
	if end < size {
		if rej, err := afterEnd(r, end, size, name); rej != nil || err != nil {
			return errOr(rej, err)
		}
	}
	decodeConfig, decode := png.DecodeConfig, png.Decode
	if mediaType == JPEG {
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	}
	cfg, err := decodeConfig(io.NewSectionReader(r, 0, size))
	if err != nil {
		return imageError(err, name)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return reject(CodeImageMalformed, "type", name)
	}
	// The decoded picture costs width x height x bytes per pixel of memory: a deep-colour
	// image is held to fewer pixels, so that no small file makes the server allocate more
	// than maxDecodeBytes.
	maxPixels := min(p.MaxPixels, maxDecodeBytes/bytesPerPixel(cfg.ColorModel))
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return reject(CodeImageTooLarge, "width", strconv.Itoa(cfg.Width), "height", strconv.Itoa(cfg.Height),
			"max", strconv.FormatInt(max(1, (maxPixels+500_000)/1_000_000), 10))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	if _, err := decode(io.NewSectionReader(r, 0, size)); err != nil {
		return imageError(err, name)
	}
	res.Width, res.Height = cfg.Width, cfg.Height
	return nil
}

// imageError is a decoder's error as a rejection: an encoding the standard library does not
// implement (arithmetic-coded or 12-bit JPEG, say) is told apart from a damaged file, since
// the remedy differs (save it again in a common encoding, or find an undamaged copy).
func imageError(err error, name string) error {
	switch err.(type) {
	case png.UnsupportedError, jpeg.UnsupportedError:
		return reject(CodeImageUnsupported, "type", name)
	}
	return reject(CodeImageMalformed, "type", name)
}

var errStructure = errors.New("broken structure")

// pngEnd walks a PNG's chunks to the end of IEND and returns that offset, and the format of
// another file found in an ancillary chunk ("" for none).
func pngEnd(r io.ReaderAt, size int64) (int64, string, error) {
	off := int64(8)
	var hdr [8]byte
	for {
		if off+12 > size {
			return 0, "", errStructure
		}
		if _, err := r.ReadAt(hdr[:], off); err != nil {
			return 0, "", errStructure
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		if n > size-off-12 {
			return 0, "", errStructure
		}
		switch typ {
		case "IEND":
			return off + 12 + n, "", nil
		case "IHDR", "PLTE", "IDAT", "fdAT":
		default:
			data := make([]byte, n)
			if _, err := r.ReadAt(data, off+8); err != nil {
				return 0, "", errStructure
			}
			if other := markerIn(data, imageMarkers); other != "" {
				return 0, other, nil
			}
		}
		off += 12 + n
	}
}

// jpegEnd walks a JPEG's markers to the end of EOI and returns that offset, and the format
// of another file found in a segment ("" for none).
func jpegEnd(r io.ReaderAt, size int64) (int64, string, error) {
	br := bufio.NewReaderSize(io.NewSectionReader(r, 2, size-2), 32<<10)
	off := int64(2) // past SOI
	readByte := func() (byte, error) {
		c, err := br.ReadByte()
		if err == nil {
			off++
		}
		return c, err
	}
	atMarker := false // the scan loop below has read a marker's 0xFF already
	for {
		if !atMarker {
			c, err := readByte()
			if err != nil || c != 0xFF {
				return 0, "", errStructure
			}
		}
		atMarker = false
		var err error
		m := byte(0xFF)
		for m == 0xFF { // fill bytes
			if m, err = readByte(); err != nil {
				return 0, "", errStructure
			}
		}
		switch {
		case m == 0xD9: // EOI
			return off, "", nil
		case m >= 0xD0 && m <= 0xD7, m == 0x01: // RSTn, TEM: no length
			continue
		case m == 0xD8, m == 0x00:
			return 0, "", errStructure
		}
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return 0, "", errStructure
		}
		off += 2
		n := int(binary.BigEndian.Uint16(l[:]))
		if n < 2 {
			return 0, "", errStructure
		}
		seg := make([]byte, n-2)
		if _, err := io.ReadFull(br, seg); err != nil {
			return 0, "", errStructure
		}
		off += int64(n - 2)
		if other := markerIn(seg, imageMarkers); other != "" {
			return 0, other, nil
		}
		if m != 0xDA { // SOS: entropy-coded data follows
			continue
		}
		// Skip the scan to the next marker: 0xFF followed by a byte other than 0x00
		// (a stuffed 0xFF), a restart marker or a fill byte.
		for {
			c, err := readByte()
			if err != nil {
				return 0, "", errStructure
			}
			if c != 0xFF {
				continue
			}
			nb, err := br.Peek(1)
			if err != nil {
				return 0, "", errStructure
			}
			if nb[0] == 0x00 || (nb[0] >= 0xD0 && nb[0] <= 0xD7) {
				if _, err := readByte(); err != nil {
					return 0, "", errStructure
				}
				continue
			}
			if nb[0] == 0xFF {
				continue
			}
			atMarker = true
			break
		}
	}
}

// maxDecodeBytes bounds the memory one image's decoding may take.
const maxDecodeBytes = 256 << 20

// bytesPerPixel is what the standard library's decoders allocate per pixel for a colour
// model; an unknown model is taken at the most.
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8
}
