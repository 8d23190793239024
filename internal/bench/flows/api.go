package flows

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// JSON shapes of the gateway's resources, as much of them as the driver reads.

type selectionJSON struct {
	Name               string    `json:"name"`
	Stage              string    `json:"stage"`
	WorkflowID         string    `json:"workflowId"`
	TimeScale          float64   `json:"timeScale"`
	StageOpenTime      time.Time `json:"stageOpenTime"`
	StageOpenWallTime  time.Time `json:"stageOpenWallTime"`
	StageCloseTime     time.Time `json:"stageCloseTime"`
	StageCloseWallTime time.Time `json:"stageCloseWallTime"`
	AppointedApp       string    `json:"appointedApplication"`
	Blocked            *struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
		Step    string `json:"step"`
	} `json:"blocked"`
	ApplicationCounts struct {
		Total      int `json:"total"`
		Submitted  int `json:"submitted"`
		InProgress int `json:"inProgress"`
		Eliminated int `json:"eliminated"`
		Withdrawn  int `json:"withdrawn"`
		Decided    int `json:"decided"`
	} `json:"applicationCounts"`
}

// wallOf is the wall-clock instant of t, an instant of the selection's own clock, counted
// from the opening of its current stage.
func (s selectionJSON) wallOf(t time.Time) time.Time {
	if s.TimeScale <= 1 || s.StageOpenWallTime.IsZero() {
		return t
	}
	return s.StageOpenWallTime.Add(time.Duration(float64(t.Sub(s.StageOpenTime)) / s.TimeScale))
}

type applicationJSON struct {
	Name         string  `json:"name"`
	Owner        string  `json:"owner"`
	State        string  `json:"state"`
	CurrentStage string  `json:"currentStage"`
	FinalScore   float64 `json:"finalScore"`
	Rank         int     `json:"rank"`
}

type stageResultJSON struct {
	Name              string    `json:"name"`
	Stage             string    `json:"stage"`
	Revision          int       `json:"revision"`
	ObjectionDeadline time.Time `json:"objectionDeadline"`
	Entries           []struct {
		Application string  `json:"application"`
		Outcome     string  `json:"outcome"`
		Rank        int     `json:"rank"`
		FinalScore  float64 `json:"finalScore"`
	} `json:"entries"`
}

// published is the answer of a command that publishes a stage result.
type published struct {
	Selection       selectionJSON   `json:"selection"`
	PublishedResult stageResultJSON `json:"publishedResult"`
}

// getSelection reads the public selection.
func (c *Client) getSelection(ctx context.Context, id string) (selectionJSON, error) {
	var out struct {
		Selection selectionJSON `json:"selection"`
	}
	err := c.call(ctx, opRead, http.MethodGet, "/v1/selections/"+id, "", nil, &out)
	return out.Selection, err
}

// listApplications reads every application of a selection matching filter, page by page,
// ordered by orderBy, stopping after limit (0: all).
func (c *Client) listApplications(ctx context.Context, id, token, filter, orderBy string, limit int) ([]applicationJSON, error) {
	var all []applicationJSON
	size := 1000
	if limit > 0 && limit < size {
		size = limit
	}
	for page := ""; ; {
		q := url.Values{"pageSize": {fmt.Sprint(size)}, "pageToken": {page}, "filter": {filter}, "orderBy": {orderBy}}
		var out struct {
			Applications  []applicationJSON `json:"applications"`
			NextPageToken string            `json:"nextPageToken"`
		}
		if err := c.call(ctx, opRead, http.MethodGet, "/v1/selections/"+id+"/applications?"+q.Encode(), token, nil, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Applications...)
		if page = out.NextPageToken; page == "" || (limit > 0 && len(all) >= limit) {
			return all, nil
		}
	}
}

// waitStage polls the public selection, from notBefore on, until it reaches stage; it fails
// when the selection ends elsewhere, is blocked, or is still not there at the deadline.
func (c *Client) waitStage(ctx context.Context, id, stage string, notBefore, deadline time.Time) (selectionJSON, error) {
	if notBefore.After(deadline) {
		notBefore = deadline
	}
	if d := time.Until(notBefore); d > 0 {
		select {
		case <-ctx.Done():
			return selectionJSON{}, fmt.Errorf("selection %s: waiting for %s: %w", id, stage, ctx.Err())
		case <-time.After(d):
		}
	}
	var last selectionJSON
	pause := firstPollPause
	for {
		sel, err := c.getSelection(ctx, id)
		if err != nil {
			return sel, fmt.Errorf("selection %s: waiting for %s: %w", id, stage, err)
		}
		last = sel
		switch {
		case sel.Stage == stage:
			return sel, nil
		case sel.Blocked != nil:
			return sel, fmt.Errorf("selection %s is blocked at %s waiting for %s: %s (%s, step %s)", id, sel.Stage, stage,
				sel.Blocked.Message, sel.Blocked.Reason, sel.Blocked.Step)
		case sel.Stage == "STAGE_CLOSED" || sel.Stage == "STAGE_CANCELLED":
			return sel, fmt.Errorf("selection %s ended in %s while waiting for %s", id, sel.Stage, stage)
		}
		if time.Now().After(deadline) {
			return last, fmt.Errorf("selection %s stuck in %s: did not reach %s by %s", id, last.Stage, stage, deadline.Format(time.TimeOnly))
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("selection %s stuck in %s waiting for %s: %w", id, last.Stage, stage, ctx.Err())
		case <-time.After(pause):
		}
		// Backing off keeps the bench's own polling from becoming the load it measures when
		// hundreds of selections wait on a saturated server.
		pause = min(2*pause, maxPollPause)
	}
}

// Polling a selection for its next stage starts every firstPollPause and slows to
// maxPollPause.
const (
	firstPollPause = 100 * time.Millisecond
	maxPollPause   = time.Second
)
