package browsertest

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ScreenshotWidths are the viewport widths Screenshot renders: a small phone and a desktop.
var ScreenshotWidths = []int{360, desktopWidth}

// maxScreenshotHeight keeps a runaway page from making a giant image.
const maxScreenshotHeight = 16384

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot writes full-page PNGs of the current page at each of ScreenshotWidths (device
// scale factor 1; phone widths emulate a mobile device, so <meta name=viewport> applies) to
// <ScreenshotDir>/<name>-<width>.png and returns their paths. The tab's viewport is restored
// afterwards. A page wider than the viewport (horizontal scrolling) is logged.
func (p *Page) Screenshot(name string) []string {
	p.t.Helper()
	name = unsafeName.ReplaceAllString(name, "_")
	if err := os.MkdirAll(p.b.ScreenshotDir, 0o755); err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	var paths []string
	for _, width := range ScreenshotWidths {
		shot, err := chromedp.Run(ctx, capture(width))
		if err != nil {
			p.t.Fatalf("screenshot %s at %d px: %v", name, width, err)
		}
		if shot.overflow > 0 {
			p.t.Logf("screenshot %s: at %d px the page is %d px wider than the viewport (horizontal scrolling)", name, width, shot.overflow)
		}
		path := filepath.Join(p.b.ScreenshotDir, fmt.Sprintf("%s-%d.png", name, width))
		if err := os.WriteFile(path, shot.png, 0o644); err != nil {
			p.t.Fatalf("screenshot %s: %v", name, err)
		}
		paths = append(paths, path)
	}
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
			return err
		}
		return settle(ctx, t)
	})); err != nil {
		p.t.Fatalf("screenshot %s: restoring the viewport: %v", name, err)
	}
	p.t.Logf("screenshots of %s: %v", name, paths)
	return paths
}

// shot is a PNG and by how many CSS pixels the content is wider than the viewport.
type shot struct {
	png      []byte
	overflow int64
}

// capture lays the page out at width and renders all of its height.
func capture(width int) chromedp.Action[shot] {
	return func(ctx context.Context, t *chromedp.Target) (shot, error) {
		metrics := emulation.SetDeviceMetricsOverrideParams{
			Width:             int64(width),
			Height:            desktopHeight,
			DeviceScaleFactor: 1,
			Mobile:            width < 600,
		}
		if _, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, metrics); err != nil {
			return shot{}, fmt.Errorf("setting the viewport: %w", err)
		}
		if err := settle(ctx, t); err != nil {
			return shot{}, err
		}
		layout, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
		if err != nil {
			return shot{}, fmt.Errorf("reading the layout: %w", err)
		}
		height := int64(desktopHeight)
		var overflow int64
		if cs := layout.CSSContentSize; cs != nil {
			height = max(1, min(ceil(cs.Height), maxScreenshotHeight))
			overflow = max(0, ceil(cs.Width)-int64(width))
		}
		res, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			CaptureBeyondViewport: new(true),
			FromSurface:           new(true),
			Clip:                  &page.Viewport{Width: float64(width), Height: float64(height), Scale: 1},
		})
		if err != nil {
			return shot{}, fmt.Errorf("capturing: %w", err)
		}
		return shot{png: res.Data, overflow: overflow}, nil
	}
}

// settle waits for the layout after a viewport change: two animation frames, or 200 ms when
// the page gets no frames.
func settle(ctx context.Context, t *chromedp.Target) error {
	_, err := chromedp.Evaluate[chromedp.Void](`new Promise(done => {
		setTimeout(done, 200);
		requestAnimationFrame(() => requestAnimationFrame(done));
	})`, chromedp.EvalAwaitPromise)(ctx, t)
	return err
}

func ceil(f float64) int64 { return int64(math.Ceil(f)) }
