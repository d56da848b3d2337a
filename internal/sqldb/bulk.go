package sqldb

import (
	"context"
	"database/sql"
	"strings"
)

// Type is the SQL type of a Bulk column.
type Type int

const (
	Text Type = iota
	Int
	JSON // JSONB on PostgreSQL, TEXT on SQLite
	Bytes
)

func (d Dialect) typeName(t Type) string {
	switch t {
	case Int:
		if d == Postgres {
			return "BIGINT"
		}
		return "INTEGER"
	case JSON:
		if d == Postgres {
			return "JSONB"
		}
		return "TEXT"
	case Bytes:
		if d == Postgres {
			return "BYTEA"
		}
		return "BLOB"
	}
	return "TEXT"
}

// Chunk sizes for Bulk: few distinct statement shapes, each prepared once and
// reused. SQLite runs a statement in-process, so modest chunks cost nothing;
// PostgreSQL pays a round trip and a plan per statement, so its chunks are
// as large as its 65,535 parameters allow (a few thousand rows).
var bulkChunks = map[Dialect][]int{
	SQLite:   {200, 20, 1},
	Postgres: {2000, 200, 20, 1},
}

// values returns "(CAST(? AS T1), …), …" for n rows of the given types.
func (d Dialect) values(types []Type, n int) string {
	var row strings.Builder
	row.WriteByte('(')
	for i, t := range types {
		if i > 0 {
			row.WriteString(", ")
		}
		row.WriteString("CAST(? AS " + d.typeName(t) + ")")
	}
	row.WriteByte(')')
	return strings.TrimSuffix(strings.Repeat(row.String()+", ", n), ", ")
}

// Bulk runs a statement over many rows with few round trips: query holds the
// marker VALUES_LIST where a multi-row VALUES list of the rows goes, e.g.
//
//	INSERT INTO t (a, b) VALUES VALUES_LIST ON CONFLICT DO NOTHING
//	WITH v(id, n) AS (VALUES VALUES_LIST) UPDATE t SET n = v.n FROM v WHERE t.id = v.id
//
// Each row has one value per type. If scan is not nil the statement returns
// rows and scan is called for each.
func (tx *Tx) Bulk(ctx context.Context, query string, types []Type, rows [][]any, scan func(*sql.Rows) error) error {
	chunks := bulkChunks[tx.db.dialect]
	for len(rows) > 0 {
		n := 1
		for _, c := range chunks {
			if len(rows) >= c && c*len(types) <= 65535 {
				n = c
				break
			}
		}
		q := strings.Replace(query, "VALUES_LIST", tx.db.dialect.values(types, n), 1)
		args := make([]any, 0, n*len(types))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		rows = rows[n:]
		if scan == nil {
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return err
			}
			continue
		}
		rs, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		for rs.Next() {
			if err := scan(rs); err != nil {
				rs.Close()
				return Classify(err)
			}
		}
		err = rs.Err()
		rs.Close()
		if err != nil {
			return Classify(err)
		}
	}
	return nil
}
