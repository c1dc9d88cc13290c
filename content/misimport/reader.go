package misimport

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hometime-edu/hometime/content"
)

// Reader limits. The defaults take the largest primary-school trusts'
// exports with room to spare and refuse anything that would need more
// memory than a row's worth.
const (
	DefaultMaxRows        = 200_000
	DefaultMaxFieldBytes  = 1 << 10  // a name, an address, a language: never a kilobyte
	DefaultMaxRecordBytes = 64 << 10 // 4 contacts × 9 columns of 1 KiB fit; a runaway quote does not
)

// ReaderOptions bound what one file may cost. Zero values take the defaults.
type ReaderOptions struct {
	MaxRows        int // data rows after the header
	MaxFieldBytes  int // longer cells are dropped with CodeFieldTooLong
	MaxRecordBytes int // a longer record (usually an unclosed quote) stops the read
}

func (o ReaderOptions) withDefaults() ReaderOptions {
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.MaxFieldBytes <= 0 {
		o.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	return o
}

// FileError is why a file could not be read any further. Row and Line say
// where (0 when the problem is the file as a whole). It is returned wrapped
// in a *content.Error whose Message is safe to show.
type FileError struct {
	Row    int
	Line   int
	Reason string
}

func (e *FileError) Error() string {
	if e.Row > 0 {
		return fmt.Sprintf("row %d (line %d): %s", e.Row, e.Line, e.Reason)
	}
	return e.Reason
}

func fileError(code content.Code, row, line int, format string, args ...any) error {
	fe := &FileError{Row: row, Line: line, Reason: fmt.Sprintf(format, args...)}
	return &content.Error{Code: code, Message: fe.Error(), Err: fe}
}

// errRecordTooLarge is what recordBudget hands encoding/csv, which passes it
// back up unchanged.
var errRecordTooLarge = errors.New("record exceeds the size limit")

// recordBudget caps how many bytes encoding/csv may pull for one record.
// encoding/csv keeps a record in memory until it ends, so without this a
// single unclosed quote would make it buffer the rest of the file.
type recordBudget struct {
	r     io.Reader
	used  int
	limit int
}

func (b *recordBudget) Read(p []byte) (int, error) {
	if b.used >= b.limit {
		return 0, errRecordTooLarge
	}
	if len(p) > b.limit-b.used {
		p = p[:b.limit-b.used]
	}
	n, err := b.r.Read(p)
	b.used += n
	return n, err
}

// Record is one data row of the file, decoded to UTF-8.
type Record struct {
	Row      int      // spreadsheet row (header is row 1 unless blank lines precede it)
	Line     int      // physical line the record starts on
	Fields   []string // valid until the next call to Next
	Problems []Problem
}

// Reader yields a MIS export one row at a time.
type Reader struct {
	csv      *csv.Reader
	budget   *recordBudget
	opts     ReaderOptions
	encoding string
	header   []string
	headerAt int // row of the header

	rows        int // data records returned
	lastRow     int
	lastEndLine int
	fields      []string
}

// NewReader sniffs the encoding and delimiter on a bounded prefix, then reads
// the header row. A UTF-8 BOM is skipped; a UTF-16 file is refused with a
// message telling the school how to save it.
func NewReader(r io.Reader, opts ReaderOptions) (*Reader, error) {
	opts = opts.withDefaults()
	br := bufio.NewReaderSize(r, sniffBytes)
	prefix, err := br.Peek(sniffBytes)
	atEOF := false
	switch {
	case err == nil:
	case errors.Is(err, io.EOF), errors.Is(err, bufio.ErrBufferFull):
		atEOF = errors.Is(err, io.EOF)
	default:
		return nil, content.Wrap(content.CodeInvalid, err, "the file could not be read")
	}
	if bytes.HasPrefix(prefix, []byte{0xFF, 0xFE}) || bytes.HasPrefix(prefix, []byte{0xFE, 0xFF}) {
		return nil, fileError(content.CodeInvalid, 0, 0,
			"the file is saved as UTF-16 (\"Unicode text\"); save it as \"CSV UTF-8\" or \"CSV (comma delimited)\"")
	}
	if bytes.HasPrefix(prefix, []byte{0xEF, 0xBB, 0xBF}) {
		if _, err := br.Discard(3); err != nil {
			return nil, content.Wrap(content.CodeInvalid, err, "the file could not be read")
		}
		prefix = prefix[3:]
	}
	if len(bytes.TrimSpace(prefix)) == 0 {
		return nil, fileError(content.CodeInvalid, 0, 0, "the file is empty")
	}
	enc := EncodingUTF8
	if !looksUTF8(prefix, atEOF) {
		enc = EncodingWindows1252
	}
	budget := &recordBudget{r: br, limit: opts.MaxRecordBytes + sniffBytes}
	c := csv.NewReader(budget)
	c.Comma = sniffDelimiter(prefix)
	c.FieldsPerRecord = -1 // exports drop trailing empty cells; a short row is not an error
	c.LazyQuotes = true    // MIS names hold stray quotes: Mary "Molly" Jones
	c.ReuseRecord = true   // fields are copied out when decoded
	rd := &Reader{csv: c, budget: budget, opts: opts, encoding: enc}
	for {
		raw, _, err := rd.read()
		if err == io.EOF {
			return nil, fileError(content.CodeInvalid, 0, 0, "the file has no header row")
		}
		if err != nil {
			return nil, err
		}
		if allBlank(raw) {
			continue
		}
		rd.setHeader(raw)
		return rd, nil
	}
}

func (r *Reader) setHeader(raw []string) {
	r.header = make([]string, len(raw))
	for i, f := range raw {
		h, _ := r.decode(f)
		r.header[i] = strings.TrimSpace(h)
	}
	r.headerAt = r.lastRow
}

// HeaderRow is the spreadsheet row the header is on.
func (r *Reader) HeaderRow() int { return r.headerAt }

// NextHeader takes the next non-blank row as the header instead: for
// reports that put a title or a date above the column names. It returns
// io.EOF when the file ends first.
func (r *Reader) NextHeader() error {
	for {
		raw, _, err := r.read()
		if err != nil {
			return err
		}
		if !allBlank(raw) {
			r.setHeader(raw)
			return nil
		}
	}
}

// sniffDelimiter picks comma, semicolon (Excel in many European locales) or
// tab from the first line.
func sniffDelimiter(prefix []byte) rune {
	line := prefix
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	best, bestN := ',', bytes.Count(line, []byte{','})
	for _, d := range []rune{';', '\t'} {
		if n := bytes.Count(line, []byte{byte(d)}); n > bestN {
			best, bestN = d, n
		}
	}
	return best
}

// read returns the next raw record and advances the row and line counters.
func (r *Reader) read() ([]string, int, error) {
	r.budget.used = 0
	raw, err := r.csv.Read()
	if err != nil {
		if err == io.EOF {
			return nil, 0, io.EOF
		}
		row, line := r.lastRow+1, r.lastEndLine+1
		if errors.Is(err, errRecordTooLarge) {
			return nil, 0, fileError(content.CodeTooLarge, row, line,
				"a row is longer than %d bytes; is a quote left open?", r.opts.MaxRecordBytes)
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			line = pe.StartLine
		}
		return nil, 0, &content.Error{Code: content.CodeInvalid,
			Message: (&FileError{Row: row, Line: line, Reason: "the row is not valid CSV"}).Error(), Err: err}
	}
	line, _ := r.csv.FieldPos(0)
	// A spreadsheet shows a blank line as an empty row; encoding/csv skips
	// it. Count the skipped lines so Row is what the school sees.
	blank := line - r.lastEndLine - 1
	if blank < 0 {
		blank = 0
	}
	r.lastRow += 1 + blank
	end := line
	for _, f := range raw {
		end += strings.Count(f, "\n")
	}
	r.lastEndLine = end
	return raw, line, nil
}

func (r *Reader) decode(f string) (string, bool) {
	if r.encoding == EncodingWindows1252 {
		return decode1252(f), false
	}
	return repairUTF8(f)
}

func allBlank(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// Header returns the header cells, trimmed.
func (r *Reader) Header() []string { return r.header }

// Encoding is what the file was read as: EncodingUTF8 or EncodingWindows1252.
func (r *Reader) Encoding() string { return r.encoding }

// Column names column i for problems: its header, or its position when the
// row is wider than the header.
func (r *Reader) Column(i int) string {
	if i < 0 {
		return "(no column)" // a caller's bug; never worth a panic mid-import
	}
	if i < len(r.header) && r.header[i] != "" {
		return r.header[i]
	}
	return fmt.Sprintf("column %d", i+1)
}

// Next returns the next data row, or io.EOF. Cells longer than
// MaxFieldBytes come back empty with a CodeFieldTooLong problem; invalid
// UTF-8 in a UTF-8 file is read as Windows-1252 with a CodeBadEncoding
// warning. More than MaxRows rows is a CodeTooLarge error.
func (r *Reader) Next() (Record, error) {
	raw, line, err := r.read()
	if err != nil {
		return Record{}, err
	}
	r.rows++
	if r.rows > r.opts.MaxRows {
		return Record{}, fileError(content.CodeTooLarge, r.lastRow, line,
			"the file has more than %d rows; split it by year group", r.opts.MaxRows)
	}
	rec := Record{Row: r.lastRow, Line: line}
	r.fields = r.fields[:0]
	for i, f := range raw {
		if len(f) > r.opts.MaxFieldBytes {
			rec.Problems = append(rec.Problems, Problem{Row: rec.Row, Line: line, Column: r.Column(i),
				Code: CodeFieldTooLong, Severity: SeverityError,
				Message: fmt.Sprintf("the cell is longer than %d bytes and was ignored", r.opts.MaxFieldBytes)})
			r.fields = append(r.fields, "")
			continue
		}
		d, repaired := r.decode(f)
		if repaired {
			rec.Problems = append(rec.Problems, Problem{Row: rec.Row, Line: line, Column: r.Column(i),
				Code: CodeBadEncoding, Severity: SeverityWarning,
				Message: "the cell is not valid UTF-8; it was read as Windows-1252, check accented letters"})
		}
		r.fields = append(r.fields, d)
	}
	rec.Fields = r.fields
	return rec, nil
}
