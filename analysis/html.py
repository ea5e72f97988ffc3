"""The report as one standalone HTML page (no script, no external file: the charts are PNG data URIs), in the
project's plain page style (departments/report.py). Each number's trace id is a link to its row in the appendix,
which shows the command that reproduces it. The page holds no generation time: only the data's as-of time, which is
part of the content."""

import base64
import html

from analysis.document import Document, Figure, Heading, Num, Para, Table

STYLE = (
    "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC',sans-serif;"
    "margin:2em auto;max-width:60em;line-height:1.6;padding:0 1em}"
    "h1.title{text-align:center;font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:1.6em}"
    ".draft{color:#c00000;font-weight:bold;text-align:center;border:2px solid #c00000;padding:.3em}"
    "table{border-collapse:collapse;margin:.3em auto 1.2em}caption{font-weight:bold;padding:.3em}"
    "td,th{border:1px solid #999;padding:.2em .5em;vertical-align:top}th{background:#ddebf7;font-weight:bold}"
    "td.num{text-align:right;white-space:nowrap}td.id{white-space:nowrap}"
    "sup a{color:#1f4e79;text-decoration:none;font-size:.8em}"
    "figure{text-align:center;margin:1em 0}figure img{max-width:100%}figcaption{font-weight:bold;font-size:.9em}"
    "tr:target{background:#fff2cc}code{font-size:.9em;word-break:break-all}"
)


def _parts(parts) -> str:
    e = html.escape
    out = []
    for part in parts if isinstance(parts, tuple) else (parts,):
        if isinstance(part, Num):
            out.append(e(part.text))
            if part.trace:
                out.append(f'<sup><a href="#{e(part.trace)}">[{e(part.trace)}]</a></sup>')
        elif part:
            out.append(e(str(part)))
    return "".join(out)


def to_html(doc: Document, images: dict) -> str:
    """The document as a page; ``images``: chart -> PNG bytes."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{e(doc.title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f'<h1 class="title">{e(doc.title)}</h1>',
    ]
    if doc.draft:
        parts.append(f'<p class="draft">{e(doc.banner)}</p>')
    tables = figures = 0
    bullets = False
    for b in doc.blocks:
        bullet = isinstance(b, Para) and b.style == "List Bullet"
        if bullets and not bullet:
            parts.append("</ul>")
        if bullet and not bullets:
            parts.append("<ul>")
        bullets = bullet
        if isinstance(b, Heading):
            parts.append(f"<h{b.level + 1}>{e(b.text)}</h{b.level + 1}>")
        elif isinstance(b, Para):
            parts.append(f"<li>{_parts(b.parts)}</li>" if bullet else f"<p>{_parts(b.parts)}</p>")
        elif isinstance(b, Table):
            tables += 1
            parts.append(f"<table><caption>表 {tables}　{_parts(b.caption)}</caption>")
            parts.append("<tr>" + "".join(f"<th>{e(h)}</th>" for h in b.header) + "</tr>")
            for n, row in enumerate(b.rows):
                anchor = f' id="{e(b.anchors[n])}"' if b.anchors else ""
                cells = "".join(
                    f'<td class="num">{_parts(v)}</td>' if b.numeric[c] else f"<td>{_parts(v)}</td>"
                    for c, v in enumerate(row)
                )
                if b.anchors:  # the appendix: the command as code
                    cells = "".join(
                        f"<td><code>{_parts(v)}</code></td>"
                        if c == 2
                        else f'<td class="id">{_parts(v)}</td>'
                        if c == 0
                        else f"<td>{_parts(v)}</td>"
                        for c, v in enumerate(row)
                    )
                parts.append(f"<tr{anchor}>{cells}</tr>")
            parts.append("</table>")
        elif isinstance(b, Figure):
            figures += 1
            data = base64.b64encode(images[b.chart]).decode("ascii")
            caption = _parts(b.caption)
            parts.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{e(b.chart.title)}">'
                f"<figcaption>图 {figures}　{caption}</figcaption></figure>"
            )
    if bullets:
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
