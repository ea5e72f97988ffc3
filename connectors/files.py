"""Client for departments' file drops: .xlsx / .xls (read with calamine) and .csv in UTF-8 or GBK.

Each entity names a glob below the source folder. Every matching file is read on its own: a file
that cannot be used (unreadable, password-protected, empty, a header that does not match the
mapping, still being written) is set aside with one clear message and the other files still load.
Each data row carries its pedigree (file, sheet, row number). Cells are normalised only in form,
never in meaning: full-width digits, letters and spaces become ASCII, Excel serial dates and Chinese
text dates (2023年9月1日, 2023/9/1, 2023.09.01) become ISO dates, surrounding spaces go.
"""

import csv
import io
import re
import time
from pathlib import Path

import pyarrow as pa
from charset_normalizer import from_bytes
from python_calamine import CalamineWorkbook, PasswordError

from connectors.base import ARROW_TYPES, Extract, SourceError, coerce, date_text, normalise_text
from model.mapping import EntitySpec, SourceSpec

SPREADSHEETS = (".xlsx", ".xls", ".xlsm", ".xlsb", ".ods")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and also the container of encrypted .xlsx files
_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")


class FileProblem(SourceError):
    """One file cannot be used; the others of the entity still load."""


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
        raise FileProblem(f"{path.name}: cannot tell the text encoding (tried UTF-8, GBK/GB18030)")
    return str(best)


def read_rows(path: Path, sheet: str | int) -> tuple[str, list[list]]:
    """All rows of one file as lists of cell values, and the sheet name ('' for CSV)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        reader = csv.reader(io.StringIO(_decode(path)))
        try:
            return "", list(reader)
        except csv.Error as e:  # e.g. a cell over the csv module's 128 KiB limit: this file only is set aside
            raise FileProblem(f"{path.name}: line {reader.line_num} cannot be read as CSV ({e})") from None
    if suffix not in SPREADSHEETS:
        raise FileProblem(f"{path.name}: unsupported file type {suffix!r} (expected .xlsx, .xls or .csv)")
    with path.open("rb") as f:
        head = f.read(1 << 16)
        f.seek(0)
        if head.startswith(_OLE2) and _ENCRYPTED in head:
            raise FileProblem(
                f"{path.name}: the workbook is password-protected; ask the sender for an unprotected copy"
            )
        try:
            wb = CalamineWorkbook.from_filelike(f)  # by content: a .xls saved under .xlsx still reads
        except PasswordError:
            raise FileProblem(
                f"{path.name}: the workbook is password-protected; ask the sender for an unprotected copy"
            )
        except Exception as e:  # calamine's own error types for broken files
            raise FileProblem(
                f"{path.name}: cannot be read as a spreadsheet, damaged or still being written "
                f"({type(e).__name__}: {e})"
            ) from None
    names = wb.sheet_names
    name = names[sheet] if isinstance(sheet, int) and sheet < len(names) else sheet
    if name not in names:
        raise FileProblem(f"{path.name}: no sheet {sheet!r}; sheets: {', '.join(names)}")
    return name, wb.get_sheet_by_name(name).to_python(skip_empty_area=False)


def clean_header(v) -> str:
    return re.sub(r"\s+", "", normalise_text(v if v is not None else ""))


def _headers(rows: list[list], first: int, depth: int) -> list[str]:
    """Column names from ``depth`` header rows; a merged parent cell names the columns under it."""
    width = max((len(r) for r in rows[first : first + depth]), default=0)
    names = [""] * width
    for level in range(depth):
        row = rows[first + level]
        carry = ""
        for i in range(width):
            cell = clean_header(row[i] if i < len(row) else "")
            if level < depth - 1:  # a parent row: a merged cell only holds its value in the first column
                carry = cell or carry
                names[i] = carry
            elif cell:
                names[i] = f"{names[i]}/{cell}" if names[i] and names[i] != cell else cell
    return names


def _labelled_value(rows: list[list], label: str) -> str | None:
    """The cell just right of ``label`` in the rows above the header (a form's 填报人, 填报日期)."""
    want = clean_header(label).rstrip(":：")
    for r in rows:
        cells = [clean_header(v).rstrip(":：") if isinstance(v, str) else v for v in r]
        if want in cells:
            i = cells.index(want) + 1
            text = date_text(r[i]) if i < len(r) and r[i] is not None else ""
            return text or None
    return None


def _cell(v, ftype: str):
    if v is None or v == "":
        return None
    if ftype == "date":
        return date_text(v)
    if isinstance(v, str):
        s = normalise_text(v)
        if ftype in ("integer", "decimal"):
            s = s.replace(",", "")
        return s or None
    return v


class FileSource:
    def __init__(self, spec: SourceSpec, folder: str | Path, settle_seconds: float = 0):
        self.spec = spec
        self.folder = Path(folder)
        self.location = str(self.folder)
        self.settle_seconds = settle_seconds  # files changed more recently than this are left for the next run

    def close(self) -> None:  # same shape as SqlSource; nothing to release
        pass

    def files(self, entity: EntitySpec) -> list[Path]:
        if not self.folder.is_dir():
            raise SourceError(
                f"{self.spec.system}: drop folder not found: {self.folder} "
                f"(set {self.spec.env}, or run `statedata demo` for the demo campus)"
            )
        return sorted(p for p in self.folder.glob(entity.files) if not p.name.startswith(("~$", ".")))

    def _check_settled(self, path: Path) -> None:
        if (path.parent / f"~${path.name}").exists():
            raise FileProblem(
                f"{path.name}: open in Excel on someone's computer (lock file ~${path.name}); "
                "it will be read once it is closed"
            )
        age = time.time() - path.stat().st_mtime
        if age < self.settle_seconds:
            raise FileProblem(
                f"{path.name}: changed {age:.0f}s ago, probably still being written; it will be read by the next run"
            )

    def extract(self, entity: EntitySpec) -> Extract:
        tables, quarantined, rows_read = [], [], 0
        for path in self.files(entity):
            try:
                self._check_settled(path)
                table, bad, n = self._extract_file(entity, path)
            except FileProblem as problem:
                quarantined.append(dict(source=path.name, key=None, column=None, value=None, reason=str(problem)))
                continue
            tables.append(table)
            quarantined += bad
            rows_read += n
        table = pa.concat_tables(tables) if tables else self._empty(entity)
        return Extract(
            table=table, rows_read=rows_read, quarantined=quarantined, source=f"{self.folder}/{entity.files}"
        )

    def _extract_file(self, entity: EntitySpec, path: Path) -> tuple[pa.Table, list[dict], int]:
        names = list(entity.fields)
        sheet, rows = read_rows(path, entity.sheet)
        where = f"{path.name}{'#' + sheet if sheet else ''}"
        if not any(any(v not in (None, "") for v in r) for r in rows):
            raise FileProblem(f"{where}: the sheet is empty")
        depth = entity.header_rows
        if len(rows) < depth:
            raise FileProblem(f"{where}: {len(rows)} row(s), fewer than the {depth} header rows expected")
        wanted = [[clean_header(x) for x in (entity.fields[n].column, *entity.fields[n].aliases)] for n in names]

        def locate(header):
            return [next((header.index(c) for c in options if c in header), None) for options in wanted]

        if entity.header_row is not None:
            first = entity.header_row - 1
            if len(rows) < first + depth:
                raise FileProblem(
                    f"{where}: expected the header in row {entity.header_row}, but the sheet has {len(rows)} rows"
                )
        else:  # the row (among the first ten) that names the most mapped columns: title rows above it are fine
            candidates = range(0, max(1, min(10, len(rows) - depth + 1)))
            first = max(candidates, key=lambda r: (sum(p is not None for p in locate(_headers(rows, r, depth))), -r))
        header = _headers(rows, first, depth)
        found = locate(header)
        missing = [entity.fields[n].column for n, p in zip(names, found) if p is None]
        if missing:
            rows_label = f"{first + 1}" if depth == 1 else f"{first + 1}-{first + depth}"
            raise FileProblem(
                f"{where}: column(s) {', '.join(missing)} not found in header row{'s' if depth > 1 else ''} "
                f"{rows_label}; found: {', '.join(x for x in header if x)}"
            )
        pos = found
        fixed = {}
        for fname, rx in entity.filename_fields.items():
            m = re.search(rx, path.name)
            if not m:
                raise FileProblem(f"{path.name}: file name does not match {rx!r} (needed for field {fname})")
            fixed[fname] = m.group(1)
        for fname, label in entity.cell_fields.items():
            fixed[fname] = _labelled_value(rows[:first], label)
            if fixed[fname] is None:
                raise FileProblem(f"{where}: {label} is not filled in (above the header, to the right of '{label}')")
        data = [
            (i + 1, r)
            for i, r in enumerate(rows[first + depth :], start=first + depth)
            if any(v not in (None, "") and not (isinstance(v, str) and not v.strip()) for v in r)
        ]
        cols = {
            n: [_cell(r[p] if p < len(r) else None, entity.fields[n].type) for _, r in data] for n, p in zip(names, pos)
        }
        for fname in [*entity.filename_fields, *entity.cell_fields]:
            cols[fname] = [fixed[fname]] * len(data)
        labels = [f"{where} row {rowno}" for rowno, _ in data]
        arrays, bad = coerce(entity, cols, labels, where)
        bad_rows = {b["key"] for b in bad}
        kept = [rowno for (rowno, _), label in zip(data, labels) if label not in bad_rows]
        arrays["_source_file"] = pa.array([path.name] * len(kept), pa.string())
        arrays["_source_sheet"] = pa.array([sheet] * len(kept), pa.string())
        arrays["_source_row"] = pa.array(kept, pa.int64())
        return pa.table(arrays), bad, len(data)

    def _empty(self, entity: EntitySpec) -> pa.Table:
        schema = {n: ARROW_TYPES[entity.fields[n].type] for n in entity.fields}
        schema |= {n: pa.string() for n in [*entity.filename_fields, *entity.cell_fields]}
        schema |= {"_source_file": pa.string(), "_source_sheet": pa.string(), "_source_row": pa.int64()}
        return pa.table({n: pa.array([], type=t) for n, t in schema.items()})
