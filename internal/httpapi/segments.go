package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/persona"
	"github.com/bottega-crm/bottega/internal/analytics/rfm"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/danielgtaylor/huma/v2"
)

// registerSegments registers the RFM and persona operations.
func (s *server) registerSegments(api huma.API, reg func(huma.Operation) huma.Operation) {
	huma.Register(api, reg(huma.Operation{OperationID: "get-rfm", Method: http.MethodGet, Path: "/api/v1/rfm", Tags: []string{"analytics"},
		Summary: "RFM grid: customers and revenue by segment and by (R, FM) cell",
		Description: "Without as_of, the scores stored by the last hourly run. With as_of (YYYY-MM-DD), scores computed from the orders as they stood at the end of that UTC day (not stored). " +
			"With segment (e.g. champions, cant-lose-them), also a page of that segment's customers, highest monetary value first."}), s.getRFM)
	huma.Register(api, reg(huma.Operation{OperationID: "get-personas", Method: http.MethodGet, Path: "/api/v1/personas", Tags: []string{"analytics"},
		Summary: "Buyer personas: k-means clusters of customers, described in plain words, with their size and value"}), s.getPersonas)
}

type rfmInput struct {
	AsOf    string `query:"as_of" maxLength:"10" doc:"Score as of the end of this UTC day (YYYY-MM-DD) instead of the last run"`
	Segment string `query:"segment" maxLength:"40" doc:"List the customers of this segment (name or slug: champions, loyal, potential-loyalist, new, promising, need-attention, about-to-sleep, at-risk, cant-lose-them, hibernating, lost)"`
	Limit   int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
	Cursor  string `query:"cursor" maxLength:"120" doc:"The next value of the previous page"`
}

type rfmOutput struct {
	Body struct {
		rfm.GridReport
		Members *rfm.SegmentPage `json:"members,omitempty" doc:"With segment: a page of its customers"`
	}
}

func (s *server) getRFM(ctx context.Context, in *rfmInput) (*rfmOutput, error) {
	out := &rfmOutput{}
	if in.AsOf == "" {
		sum, err := rfm.Current(ctx, s.DB)
		if err != nil {
			return nil, s.fail(err)
		}
		out.Body.GridReport = sum
		if in.Segment != "" {
			page, err := rfm.List(ctx, s.DB, in.Segment, in.Cursor, in.Limit, s.BaseCurrency)
			if err != nil {
				return nil, s.fail(err)
			}
			out.Body.Members = &page
		}
		return out, nil
	}
	day, err := time.Parse(time.DateOnly, in.AsOf)
	if err != nil {
		return nil, s.fail(fault.New(fault.Invalid, "as_of %q is not a date such as 2025-03-31", in.AsOf))
	}
	if day.After(s.Now().UTC()) {
		return nil, s.fail(fault.New(fault.Invalid, "as_of %s is in the future", in.AsOf))
	}
	if in.Segment != "" {
		if _, ok := rfm.ParseSegment(in.Segment); !ok {
			_, err := rfm.List(ctx, s.DB, in.Segment, "", 1, s.BaseCurrency) // says which segments exist
			return nil, s.fail(err)
		}
	}
	scored, sum, err := rfm.At(ctx, s.DB, day, s.BaseCurrency)
	if err != nil {
		return nil, s.fail(err)
	}
	out.Body.GridReport = sum
	if in.Segment != "" {
		page, err := rfm.ListScored(ctx, s.DB, scored, sum.AsOf, in.Segment, in.Cursor, in.Limit, s.BaseCurrency)
		if err != nil {
			return nil, s.fail(err)
		}
		out.Body.Members = &page
	}
	return out, nil
}

type personasOutput struct {
	Body persona.PersonaReport
}

func (s *server) getPersonas(ctx context.Context, _ *struct{}) (*personasOutput, error) {
	sum, err := persona.Current(ctx, s.DB)
	if err != nil {
		return nil, s.fail(err)
	}
	return &personasOutput{Body: sum}, nil
}
