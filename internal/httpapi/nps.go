package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/days"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/survey"
	"github.com/danielgtaylor/huma/v2"
)

// registerNPS registers the NPS and CSAT report.
func (s *server) registerNPS(api huma.API, reg func(huma.Operation) huma.Operation) {
	huma.Register(api, reg(huma.Operation{OperationID: "get-nps", Method: http.MethodGet, Path: "/api/v1/nps", Tags: []string{"analytics"},
		Summary: "NPS and CSAT of a period, month by month and by channel, store or month, with the comments",
		Description: "From Survey Responded events (score 0-10 for NPS, 1-5 for CSAT). Promoters score 9-10, passives 7-8, detractors 0-6; " +
			"NPS = % promoters − % detractors, one decimal. Every response counts (a customer answering twice counts twice). " +
			"from and to are UTC days, both included. Comments come newest first, a page at a time."}), s.getNPS)
}

type npsInput struct {
	From           string `query:"from" required:"true" doc:"First day (YYYY-MM-DD, UTC)"`
	To             string `query:"to" required:"true" doc:"Last day, included (YYYY-MM-DD, UTC)"`
	By             string `query:"by" doc:"Breakdown: channel, store or month"`
	CommentsLimit  int    `query:"comments_limit" default:"20" doc:"Comments per page, 1-200"`
	CommentsBefore string `query:"comments_before" maxLength:"60" doc:"The comments_next value of the previous page"`
}

type npsOutput struct {
	Body struct {
		survey.NPSReport
		Comments     []survey.ResponseComment `json:"comments" doc:"Answers with a comment, newest first"`
		CommentsNext string                   `json:"comments_next,omitempty" doc:"Pass as comments_before for the next page of comments"`
	}
}

// parsePeriod reads from and to (YYYY-MM-DD).
func parsePeriod(from, to string) (time.Time, time.Time, error) {
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return f, f, fault.New(fault.Invalid, "from %q is not a date such as 2025-03-01", from)
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return f, t, fault.New(fault.Invalid, "to %q is not a date such as 2025-03-31", to)
	}
	return f, t, nil
}

func (s *server) getNPS(ctx context.Context, in *npsInput) (*npsOutput, error) {
	from, to, err := parsePeriod(in.From, in.To)
	if err != nil {
		return nil, s.fail(err)
	}
	p, err := days.New(from, to)
	if err != nil {
		return nil, s.fail(err)
	}
	if err := survey.CheckBy(in.By); err != nil {
		return nil, s.fail(err)
	}
	out := &npsOutput{}
	if out.Body.NPSReport, err = survey.Summarise(ctx, s.DB, p, in.By); err != nil {
		return nil, s.fail(err)
	}
	page, err := survey.ListComments(ctx, s.DB, p, in.CommentsLimit, in.CommentsBefore)
	if err != nil {
		return nil, s.fail(err)
	}
	out.Body.Comments, out.Body.CommentsNext = page.Comments, page.Next
	return out, nil
}
