"""The report as an editable Word document (python-docx), in Word's own styles so that the quality office can
rework the text around the numbers: Title, Heading 1/2, Normal, List Bullet, Caption (with SEQ fields, so table and
figure numbers follow edits) and the table style "Table Grid"; Chinese typography (宋体/黑体 for East Asian text,
bold table headers repeated on every page, numbers right-aligned with thousands separators, units in the headers).
Each number's trace id is a superscript link to its bookmark in the appendix.

Byte-identical for the same document: the core properties are set to fixed values (the data's as-of time, not
the clock) and the package is rewritten with fixed zip entry times and permissions, entries in the order
python-docx writes them.
"""

import io
import zipfile
from datetime import datetime, timezone

import docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from analysis.document import Document, Figure, Heading, Num, Para, Table
from reporting.package import ZIP_TIME

TABLE_STYLE = "Table Grid"
BODY_FONT, HEADING_FONT, LATIN_FONT = "宋体", "黑体", "Times New Roman"
RED = RGBColor(0xC0, 0x00, 0x00)


def _fonts(style, east_asian: str, size: float | None = None, latin: str | None = LATIN_FONT):
    if latin:
        style.font.name = latin
    if size:
        style.font.size = Pt(size)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), east_asian)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)  # a theme font would win over the names set here
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _styles(d):
    styles = d.styles
    _fonts(styles["Normal"], BODY_FONT, 10.5)
    for name, size in (("Title", 18), ("Heading 1", 14), ("Heading 2", 12), ("Caption", 9)):
        _fonts(styles[name], HEADING_FONT if name != "Caption" else BODY_FONT, size)
    for name in ("Title", "Heading 1", "Heading 2"):
        styles[name].font.color.rgb = RGBColor(0, 0, 0)
    styles["Title"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    styles["Caption"].font.color.rgb = RGBColor(0, 0, 0)
    styles["Caption"].font.bold = True


def _trace_link(paragraph, trace: str, size: float | None = None):
    """A superscript [T-07] linking to the appendix's bookmark T_07."""
    link = OxmlElement("w:hyperlink")
    link.set(qn("w:anchor"), trace.replace("-", "_"))
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    align = OxmlElement("w:vertAlign")
    align.set(qn("w:val"), "superscript")
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), "1F4E79")
    rpr.append(colour)
    rpr.append(align)
    if size:
        sz = OxmlElement("w:sz")
        sz.set(qn("w:val"), str(int(size * 2)))
        rpr.append(sz)
    run.append(rpr)
    text = OxmlElement("w:t")
    text.text = f"[{trace}]"
    run.append(text)
    link.append(run)
    paragraph._p.append(link)


def _parts(paragraph, parts, size: float | None = None, bold: bool = False):
    for part in parts if isinstance(parts, tuple) else (parts,):
        if isinstance(part, Num):
            if part.text:
                run = paragraph.add_run(part.text)
                run.bold = bold or None
                if size:
                    run.font.size = Pt(size)
            if part.trace:
                _trace_link(paragraph, part.trace, size)
        elif part:
            run = paragraph.add_run(str(part))
            run.bold = bold or None
            if size:
                run.font.size = Pt(size)


def _caption(d, kind: str, n: int, parts):
    """表 3 … / 图 2 …: the number is a SEQ field (Word renumbers when tables or figures are added)."""
    p = d.add_paragraph(style="Caption")
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run(f"{kind} ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), f" SEQ {kind} \\* ARABIC ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = str(n)
    run.append(text)
    field.append(run)
    p._p.append(field)
    p.add_run("  ")
    _parts(p, parts)
    return p


def _repeat_header(row):
    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _bookmark(paragraph, name: str, n: int):
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(n))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(n))
    paragraph._p.insert(0, start)
    paragraph._p.append(end)


def _table(d, t: Table):
    table = d.add_table(rows=1 + len(t.rows), cols=len(t.header))
    table.style = d.styles[TABLE_STYLE]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    head = table.rows[0]
    _repeat_header(head)
    for cell, text in zip(head.cells, t.header):
        p = cell.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _parts(p, text, size=9, bold=True)
    for r, (row, values) in enumerate(zip(table.rows[1:], t.rows)):
        for c, (cell, value) in enumerate(zip(row.cells, values)):
            p = cell.paragraphs[0]
            if t.numeric[c]:
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _parts(p, value, size=9)
            if c == 0 and t.anchors:
                _bookmark(p, t.anchors[r].replace("-", "_"), r + 1)


def to_docx(doc: Document, images: dict, when: datetime, snapshot: str) -> bytes:
    """The document as .docx bytes; ``images``: chart -> PNG bytes; ``when``: the data's as-of time (the core
    properties' created and modified)."""
    d = docx.Document()
    _styles(d)
    section = d.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.5)
    if doc.draft:
        header = section.header.paragraphs[0]
        header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run = header.add_run(doc.banner)
        run.font.color.rgb = RED
        run.font.size = Pt(9)
    d.add_paragraph(doc.title, style="Title")
    if doc.draft:
        p = d.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(doc.banner)
        run.bold = True
        run.font.color.rgb = RED
    tables = figures = 0
    for b in doc.blocks:
        if isinstance(b, Heading):
            d.add_heading(b.text, level=b.level)
        elif isinstance(b, Para):
            _parts(d.add_paragraph(style=b.style), b.parts)
        elif isinstance(b, Table):
            tables += 1
            _caption(d, "表", tables, b.caption)
            _table(d, b)
            d.add_paragraph()
        elif isinstance(b, Figure):
            figures += 1
            p = d.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.add_run().add_picture(io.BytesIO(images[b.chart]), width=Cm(16))
            _caption(d, "图", figures, b.caption)
    props = d.core_properties
    props.title = doc.title
    props.subject = doc.subject
    props.author = props.last_modified_by = "statedata"
    stamp = when.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)  # core properties are in UTC
    props.created = props.modified = props.last_printed = stamp
    props.revision = 1
    props.comments = f"由 statedata 依据仓库快照 {snapshot} 起草"
    props.category = "草稿" if doc.draft else ""
    props.keywords = "人才培养工作状态数据;数据分析报告"
    props.language = "zh-CN"
    buf = io.BytesIO()
    d.save(buf)
    return fixed_zip(buf.getvalue())


def fixed_zip(data: bytes) -> bytes:
    """The same zip with fixed entry times and permissions, entries in their original order: what python-docx
    stamps with the clock no longer differs between two builds."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for entry in src.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, src.read(entry.filename))
    return out.getvalue()
