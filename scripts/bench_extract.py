"""Compare ways of reading a SQLite source table into Arrow (the measurement behind connectors/sql.py).

    python scripts/bench_extract.py data/demo/library.sqlite LIB_GCMX

Paths: (1) statedata's SqlSource as used (ConnectorX, exact SQLAlchemy fallback); (2) its exact path alone
(SQLAlchemy Core streamed in chunks, per-value coercion and quarantine); (3) plain SQLAlchemy rows -> pa.array;
(4) ADBC's SQLite driver; (5) ConnectorX alone. ADBC needs the optional extra: pip install adbc-driver-sqlite.
"""

import sys
import time

import pyarrow as pa
import sqlalchemy as sa


def timed(label, fn, rows_hint=None):
    t = time.perf_counter()
    try:
        n = fn()
    except Exception as e:  # a path that cannot read this table is reported, not hidden
        print(f"{label:<42} failed: {type(e).__name__}: {str(e)[:120]}")
        return
    sec = time.perf_counter() - t
    print(f"{label:<42}{sec:>8.2f}s {n:>12,} rows {n / sec:>14,.0f} rows/s")


def main(db: str, table: str) -> None:
    url = f"sqlite:///{db}"

    def ours(exact=False):
        from connectors.sql import SqlSource
        from model.mapping import load_mappings
        from model.settings import Settings

        for spec in load_mappings(Settings.from_env().mappings_dir).values():
            for e in spec.entities.values():
                if e.table == table:
                    with SqlSource(spec, url) as src:
                        x = src._extract_sqlalchemy(e) if exact else src.extract(e)
                    return x.rows_read
        raise LookupError(f"no mapping for table {table}")

    def plain_sqlalchemy():
        eng = sa.create_engine(url)
        n = 0
        with eng.connect() as con:
            res = con.execution_options(stream_results=True, yield_per=100_000).execute(
                sa.text(f'select * from "{table}"')
            )
            keys = list(res.keys())
            for chunk in res.partitions(100_000):
                cols = list(zip(*chunk))
                pa.table({k: pa.array(list(c)) for k, c in zip(keys, cols)})
                n += len(chunk)
        return n

    def adbc():
        import adbc_driver_sqlite.dbapi as dbapi

        with dbapi.connect(db) as con, con.cursor() as cur:
            cur.execute(f'select * from "{table}"')
            return cur.fetch_arrow_table().num_rows

    def connectorx():
        import connectorx as cx

        return cx.read_sql(f"sqlite://{db}", f'select * from "{table}"', return_type="arrow").num_rows

    timed("statedata SqlSource (as used)", ours)
    timed("statedata exact path (SQLAlchemy+coercion)", lambda: ours(exact=True))
    timed("SQLAlchemy stream -> pa.array", plain_sqlalchemy)
    timed("ADBC sqlite driver", adbc)
    timed("ConnectorX", connectorx)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
