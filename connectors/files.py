"""Client for departments' file drops: .xlsx / .xls (read with calamine) and .csv in UTF-8 or GBK.

Each entity names a glob below the source folder; every matching file is read, its header row
checked against the mapping, and each data row carries its pedigree (file, sheet, row number).
"""

import csv
import io
import re
from pathlib import Path

import pyarrow as pa
from charset_normalizer import from_bytes
from python_calamine import CalamineWorkbook

from connectors.base import ARROW_TYPES, Extract, SourceError, coerce
from connectors.mapping import EntitySpec, SourceSpec


def _decode(path: Path) -> str:
    """CSV text: UTF-8 (with or without BOM), else GB18030 (a superset of GBK, what Chinese Excel saves)."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            pass
    best = from_bytes(raw).best()
    if best is None:
        raise SourceError(f"{path}: cannot tell the text encoding (tried UTF-8, GBK/GB18030)")
    return str(best)


def _read_rows(path: Path, sheet: str | int) -> tuple[str, list[list]]:
    """All rows of one file as lists of cell values, and the sheet name ('' for CSV)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "", list(csv.reader(io.StringIO(_decode(path))))
    if suffix in (".xlsx", ".xls", ".xlsm", ".xlsb", ".ods"):
        try:
            wb = CalamineWorkbook.from_path(str(path))
            names = wb.sheet_names
            name = names[sheet] if isinstance(sheet, int) else sheet
            if name not in names:
                raise SourceError(f"{path}: no sheet {sheet!r}; sheets: {', '.join(names)}")
            return name, wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except SourceError:
            raise
        except Exception as e:  # calamine raises its own error types for broken files
            raise SourceError(f"{path}: cannot be read as a spreadsheet ({type(e).__name__}: {e})") from None
    raise SourceError(f"{path}: unsupported file type {suffix!r} (expected .xlsx, .xls or .csv)")


def _clean_header(v) -> str:
    return re.sub(r"\s+", "", str(v or ""))


class FileSource:
    def __init__(self, spec: SourceSpec, folder: str | Path):
        self.spec = spec
        self.folder = Path(folder)
        self.location = str(self.folder)

    def close(self) -> None:  # same shape as SqlSource; nothing to release
        pass

    def files(self, entity: EntitySpec) -> list[Path]:
        if not self.folder.is_dir():
            raise SourceError(
                f"{self.spec.system}: drop folder not found: {self.folder} "
                f"(set {self.spec.env}, or run `statedata demo` for the demo campus)"
            )
        return sorted(p for p in self.folder.glob(entity.files) if not p.name.startswith(("~$", ".")))

    def extract(self, entity: EntitySpec) -> Extract:
        names = list(entity.fields)
        fn_fields = list(entity.filename_fields)
        tables, quarantined, rows_read = [], [], 0
        for path in self.files(entity):
            sheet, rows = _read_rows(path, entity.sheet)
            h = entity.header_row - 1
            if len(rows) <= h:
                raise SourceError(
                    f"{path}: expected the header in row {entity.header_row}, but the sheet has {len(rows)} rows"
                )
            header = [_clean_header(v) for v in rows[h]]
            missing = [f.column for f in entity.fields.values() if _clean_header(f.column) not in header]
            if missing:
                raise SourceError(
                    f"{path}{'#' + sheet if sheet else ''}: column(s) {', '.join(missing)} not found in "
                    f"header row {entity.header_row}; found: {', '.join(x for x in header if x)}"
                )
            pos = [header.index(_clean_header(entity.fields[n].column)) for n in names]
            fixed = {}
            for fname, rx in entity.filename_fields.items():
                m = re.search(rx, path.name)
                if not m:
                    raise SourceError(f"{path}: file name does not match {rx!r} (needed for field {fname})")
                fixed[fname] = m.group(1)
            data = [(i + 1, r) for i, r in enumerate(rows[h + 1 :], start=h + 1) if any(v not in (None, "") for v in r)]
            rows_read += len(data)
            cols = {n: [r[p] if p < len(r) and r[p] != "" else None for _, r in data] for n, p in zip(names, pos)}
            for fname in fn_fields:
                cols[fname] = [fixed[fname]] * len(data)
            where = f"{path.name}{'#' + sheet if sheet else ''}"
            labels = [f"{where} row {rowno}" for rowno, _ in data]
            arrays, bad = coerce(entity, cols, labels, where)
            quarantined += bad
            bad_rows = {b["key"] for b in bad}
            kept = [rowno for (rowno, _), label in zip(data, labels) if label not in bad_rows]
            arrays["_source_file"] = pa.array([path.name] * len(kept), pa.string())
            arrays["_source_sheet"] = pa.array([sheet] * len(kept), pa.string())
            arrays["_source_row"] = pa.array(kept, pa.int64())
            tables.append(pa.table(arrays))
        if tables:
            table = pa.concat_tables(tables)
        else:
            schema = {n: ARROW_TYPES[entity.fields[n].type] for n in names} | {n: pa.string() for n in fn_fields}
            schema |= {"_source_file": pa.string(), "_source_sheet": pa.string(), "_source_row": pa.int64()}
            table = pa.table({n: pa.array([], type=t) for n, t in schema.items()})
        return Extract(
            table=table, rows_read=rows_read, quarantined=quarantined, source=f"{self.folder}/{entity.files}"
        )
