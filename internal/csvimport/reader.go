package csvimport

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/bottega-crm/bottega/internal/fault"
	"golang.org/x/text/encoding/charmap"
)

// headerPeek bounds the header line, which is read ahead to find the
// delimiter.
const headerPeek = 64 << 10

var (
	errFileTooLarge   = errors.New("file too large")
	errRecordTooLarge = errors.New("record too large")
)

// counter counts the bytes read from the file and stops past max.
type counter struct {
	r   io.Reader
	n   int64
	max int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.max > 0 && c.n > c.max {
		return n, errFileTooLarge
	}
	return n, err
}

// limiter stops feeding the CSV parser once the record being read has grown
// beyond max bytes, so that an unclosed quote cannot pull a whole file into
// memory. start is where the current record began (set between records).
type limiter struct {
	r     io.Reader
	n     int64
	start int64
	max   int64
}

func (l *limiter) Read(p []byte) (int, error) {
	if l.n-l.start > l.max {
		return 0, errRecordTooLarge
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// reader reads the records of a CSV file one by one.
type reader struct {
	count     *counter
	lim       *limiter
	csv       *csv.Reader
	delim     rune
	bom       bool
	header    []string
	maxRecord int64
	maxFile   int64
	lastLine  int
}

// newReader prepares r for reading: it skips a UTF-8 byte order mark,
// refuses UTF-16 and spreadsheet files, decodes a declared single-byte
// encoding, finds the delimiter (',' ';' or tab, from the header line, unless
// delim is given) and reads the header.
func newReader(r io.Reader, o *Options) (*reader, error) {
	rd := &reader{count: &counter{r: r, max: o.MaxFileBytes}, maxRecord: o.MaxRecordBytes, maxFile: o.MaxFileBytes}
	br := bufio.NewReaderSize(rd.count, headerPeek)
	start, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, rd.fatal(err)
	}
	switch {
	case bytes.HasPrefix(start, []byte{0xEF, 0xBB, 0xBF}):
		rd.bom = true
		_, _ = br.Discard(3)
	case bytes.HasPrefix(start, []byte{0xFF, 0xFE}), bytes.HasPrefix(start, []byte{0xFE, 0xFF}):
		return nil, fault.New(fault.Invalid, "the file is UTF-16 text; save it as \"CSV UTF-8\" (in Excel: Save As → CSV UTF-8)")
	case bytes.HasPrefix(start, []byte("PK\x03\x04")):
		return nil, fault.New(fault.Invalid, "the file is a spreadsheet workbook (.xlsx or .ods), not CSV; save it as \"CSV UTF-8\" first")
	}
	var in io.Reader = br
	switch strings.ToLower(strings.ReplaceAll(o.Encoding, "_", "-")) {
	case "", "utf-8", "utf8":
	case "windows-1252", "cp1252":
		in = charmap.Windows1252.NewDecoder().Reader(br)
	case "iso-8859-1", "latin1", "latin-1":
		in = charmap.ISO8859_1.NewDecoder().Reader(br)
	case "iso-8859-15", "latin9", "latin-9":
		in = charmap.ISO8859_15.NewDecoder().Reader(br)
	default:
		return nil, fault.New(fault.Invalid, "encoding %q is not one of utf-8, windows-1252, iso-8859-1, iso-8859-15", o.Encoding)
	}
	hb := bufio.NewReaderSize(in, headerPeek)
	rd.delim = o.Delimiter
	if rd.delim == 0 {
		peek, err := hb.Peek(headerPeek)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, rd.fatal(err)
		}
		var complete bool
		rd.delim, complete = detectDelimiter(peek)
		if !complete && len(peek) >= headerPeek {
			return nil, fault.New(fault.Invalid, "the header line is longer than %d KiB", headerPeek>>10)
		}
	}
	rd.lim = &limiter{r: hb, max: rd.maxRecord + headerPeek}
	rd.csv = csv.NewReader(rd.lim)
	rd.csv.Comma = rd.delim
	rd.csv.FieldsPerRecord = 0
	header, err := rd.csv.Read()
	if errors.Is(err, io.EOF) {
		return nil, fault.New(fault.Invalid, "the file is empty: it needs a header line naming its columns")
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fault.New(fault.Invalid, "line %d: the header cannot be read: %s", pe.StartLine, describe(pe, 0))
		}
		return nil, rd.fatal(err)
	}
	for i, h := range header {
		c, err := cleanCell(h)
		if err != nil {
			return nil, fault.New(fault.Invalid, "line 1: the name of column %d %v%s", i+1, err, encodingHint(o))
		}
		header[i] = c
	}
	rd.header = header
	rd.lastLine, _ = rd.csv.FieldPos(len(header) - 1)
	rd.lim.start = rd.csv.InputOffset()
	return rd, nil
}

func encodingHint(o *Options) string {
	if o.Encoding == "" {
		return " (is the file in another encoding? try --encoding windows-1252)"
	}
	return ""
}

// detectDelimiter counts the candidate delimiters outside quotes in the
// first line of b and returns the most frequent (',' when none appears).
// complete reports that the first line ends within b.
func detectDelimiter(b []byte) (delim rune, complete bool) {
	counts := map[byte]int{}
	quoted := false
	for _, c := range b {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '\n':
			complete = true
		case c == ',' || c == ';' || c == '\t':
			counts[c]++
		}
		if complete {
			break
		}
	}
	delim = ','
	if counts[';'] > counts[','] && counts[';'] >= counts['\t'] {
		delim = ';'
	} else if counts['\t'] > counts[','] && counts['\t'] > counts[';'] {
		delim = '\t'
	}
	return delim, complete
}

// fatal turns a read error into the error the import stops with.
func (rd *reader) fatal(err error) error {
	switch {
	case errors.Is(err, errFileTooLarge):
		return fault.New(fault.TooLarge, "the file is larger than %s, the limit", formatBytes(rd.maxFile))
	case errors.Is(err, errRecordTooLarge):
		return fault.New(fault.TooLarge, "line %d: a record is longer than %s, the limit; an unclosed quote (\") is the usual cause", rd.lastLine+1, formatBytes(rd.maxRecord))
	}
	return fault.Wrap(err, fault.Invalid, "reading the file failed")
}

// next returns the next record and the line it starts on. problem, when not
// empty, says why the record is unusable (it is returned for the rejects
// file). Cells are trimmed. It returns io.EOF at the end of the file and a
// fault error when the file cannot be read further.
func (rd *reader) next() (line int, rec []string, problem string, err error) {
	rec, err = rd.csv.Read()
	if errors.Is(err, io.EOF) {
		return 0, nil, "", io.EOF
	}
	var pe *csv.ParseError
	switch {
	case err == nil:
		line, _ = rd.csv.FieldPos(0)
		rd.lastLine, _ = rd.csv.FieldPos(len(rec) - 1)
	case errors.As(err, &pe) && !errors.Is(err, errFileTooLarge) && !errors.Is(err, errRecordTooLarge):
		line, rd.lastLine = pe.StartLine, pe.Line
		if !errors.Is(pe.Err, csv.ErrFieldCount) { // counted below, with the numbers
			problem = describe(pe, len(rd.header))
		}
	default:
		return 0, nil, "", rd.fatal(err)
	}
	end := rd.csv.InputOffset()
	if end-rd.lim.start > rd.maxRecord {
		return 0, nil, "", fault.New(fault.TooLarge, "line %d: a record is longer than %s, the limit; an unclosed quote (\") is the usual cause", line, formatBytes(rd.maxRecord))
	}
	rd.lim.start = end
	for i, v := range rec {
		c, cerr := cleanCell(v)
		if cerr != nil {
			if problem == "" {
				problem = fmt.Sprintf("column %s %v", rd.columnName(i), cerr)
			}
			continue
		}
		rec[i] = c
	}
	if problem == "" && len(rec) != len(rd.header) {
		problem = fmt.Sprintf("the row has %d columns; the header has %d", len(rec), len(rd.header))
	}
	return line, rec, problem, nil
}

func (rd *reader) columnName(i int) string {
	if i < len(rd.header) && rd.header[i] != "" {
		return fmt.Sprintf("%q", rd.header[i])
	}
	return fmt.Sprint(i + 1)
}

// describe explains a CSV syntax error.
func describe(pe *csv.ParseError, columns int) string {
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		return fmt.Sprintf("the row has a different number of columns than the header (%d)", columns)
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf("a quote (\") appears inside an unquoted cell at column %d; quote the whole cell and double the quote (\"\")", pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf("a quoted cell is not closed properly near line %d, column %d", pe.Line, pe.Column)
	}
	return pe.Err.Error()
}

// formatBytes writes a size the way the limits are set: "2 GiB", "1 MiB".
func formatBytes(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// ParseSize reads a size such as "2GiB", "500MB", "1 MiB" or "1048576".
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10}, {"gb", 1e9}, {"mb", 1e6}, {"kb", 1e3}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"b", 1}} {
		if strings.HasSuffix(strings.ToLower(t), u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	var n int64
	if _, err := fmt.Sscan(t, &n); err != nil || n <= 0 || n > (1<<62)/mult || strings.ContainsAny(t, " .,") {
		return 0, fault.New(fault.Invalid, "size %q is not a size such as 2GiB, 500MB or 1048576", s)
	}
	return n * mult, nil
}
