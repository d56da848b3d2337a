package csvimport

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/bottega-crm/bottega/internal/fault"
)

// rejectsWriter writes rejected rows as CSV: the input's header and cells as
// they were read, plus a reject_reason column. Cells are written unchanged,
// formulas included, so that the corrected file imports exactly as the
// original would have; open it in a spreadsheet as text.
type rejectsWriter struct {
	w       *csv.Writer
	columns int
}

func newRejectsWriter(w io.Writer, header []string, delim rune, bom bool) (*rejectsWriter, error) {
	if bom {
		if _, err := io.WriteString(w, "\ufeff"); err != nil {
			return nil, fault.Wrap(err, fault.Unavailable, "writing the rejects file failed")
		}
	}
	cw := csv.NewWriter(w)
	cw.Comma = delim
	rw := &rejectsWriter{w: cw, columns: len(header)}
	if err := cw.Write(append(append([]string(nil), header...), RejectColumn)); err != nil {
		return nil, fault.Wrap(err, fault.Unavailable, "writing the rejects file failed")
	}
	return rw, nil
}

func (rw *rejectsWriter) write(r Rejection) error {
	where := fmt.Sprintf("line %d", r.Line)
	if r.LastLine != r.Line {
		where = fmt.Sprintf("lines %d-%d", r.Line, r.LastLine)
	}
	for _, rec := range r.Records {
		row := append([]string(nil), rec...)
		for len(row) < rw.columns {
			row = append(row, "")
		}
		row = append(row, where+": "+r.Reason)
		if err := rw.w.Write(row); err != nil {
			return fault.Wrap(err, fault.Unavailable, "writing the rejects file failed")
		}
	}
	return nil
}

func (rw *rejectsWriter) flush() error {
	rw.w.Flush()
	if err := rw.w.Error(); err != nil {
		return fault.Wrap(err, fault.Unavailable, "writing the rejects file failed")
	}
	return nil
}
