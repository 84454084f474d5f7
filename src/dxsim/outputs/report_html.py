"""HTML pieces of the report: escaping, tables, figures with embedded images, links, the style sheet."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

MIME = {"svg": "image/svg+xml", "png": "image/png"}
CSS = """
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; margin: 0 auto; max-width: 1180px;
       padding: 0 24px 48px; color: #222; line-height: 1.45; }
h1 { font-size: 1.7em; margin: 28px 0 4px; } h2 { border-bottom: 2px solid #0072B2; padding-bottom: 3px;
margin-top: 40px; } h3 { margin-top: 28px; }
.meta, .note, figcaption { color: #555; font-size: 0.9em; } .warning { color: #D55E00; font-weight: bold; }
nav ul { columns: 2; } table { border-collapse: collapse; margin: 10px 0 18px; font-size: 0.86em; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f6f9; } table { max-width: 100%; } td { overflow-wrap: anywhere; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 18px 0 26px; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 8px 18px; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px; vertical-align: -0.1em; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 0.85em; }
details { margin: 8px 0 16px; } summary { cursor: pointer; color: #0072B2; }
.brief-geo { border-top: 1px solid #ccc; padding-top: 4px; } .brief-geo h4 { margin: 10px 0 2px; }
@page { size: A4; margin: 14mm 15mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 9pt; line-height: 1.3; }
  nav { display: none; }
  h1 { font-size: 16pt; margin-top: 0; } h2 { font-size: 13pt; margin-top: 0; break-before: page; }
  h3 { font-size: 11pt; margin-top: 12px; break-after: avoid; } h4 { font-size: 9.5pt; break-after: avoid; }
  section#brief > h2 { break-before: auto; }
  .brief-geo { break-after: page; border: 0; }
  .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 2px 10px; }   /* two fan charts per printed row */
  figure { margin: 6px 0; break-inside: avoid; }
  figure img { width: 100%; max-height: 24cm; object-fit: contain; border: 0; }   /* a tall chart fits a page */
  table { font-size: 7.5pt; margin: 4px 0 8px; width: 100%; } th, td { padding: 1px 4px; }
  tr { break-inside: avoid; } td { overflow-wrap: anywhere; } th { hyphens: none; }
  pre { white-space: pre-wrap; font-size: 7pt; }
  a { color: inherit; text-decoration: none; }
}
"""



def chart_file(path_stem: Path) -> Path | None:
    """``stem.svg`` or else ``stem.png`` (SVG is smaller and sharp at any zoom)."""
    for ext in ("svg", "png"):
        p = path_stem.with_name(f"{path_stem.name}.{ext}")
        if p.is_file():
            return p
    return None


def data_uri(path: Path) -> str:
    mime = MIME.get(path.suffix.lstrip(".").lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


# --------------------------------------------------------------------------------------------- html bits

def esc(value: Any) -> str:
    return html.escape("" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value))


def link(url: Any, text: str | None = None) -> str:
    """An <a href> for http(s) URLs; anything else as plain text."""
    from dxsim.outputs.charts import source_name

    url = "" if url is None or (isinstance(url, float) and np.isnan(url)) else str(url)
    if urlparse(url).scheme in ("http", "https"):
        return f'<a href="{html.escape(url, quote=True)}" rel="noreferrer">{esc(text or source_name(url))}</a>'
    return esc(url or "—")


def table_html(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """An HTML table from already-escaped cells."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if k in numeric else f"<td>{c}</td>"
                                    for k, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def figure_html(path: Path | None, caption: str, alt: str, lang: str = "en") -> str:
    from dxsim.outputs.report_words import word

    if path is None:
        return f'<p class="note">({esc(word("no_chart", lang, caption=caption))})</p>'
    return (f'<figure><img src="{data_uri(path)}" alt="{esc(alt)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")
