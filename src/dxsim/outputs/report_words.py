"""The words of ``report.html`` in its language, and the report's number format.

The words are in ``dxsim/data/words/<lang>.toml`` (tables ``report``, ``status``, ``methods``, ``pillars``,
``evidence``; chart words in ``chart``, the two maps' in ``map``), read by ``words.py``; plan documents' names are
in ``document_names``. Numbers in Vietnamese take a decimal comma.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from dxsim.core.verdicts import DECIDING_RULE
from dxsim.outputs import style
from dxsim.outputs.words import table

# the model's reasons and notes (target_probabilities.csv) in Vietnamese: (pattern, replacement)
NOTES_VI: tuple[tuple[str, str], ...] = (
    (r"^indicator (\S+) is not modelled$", r"chỉ tiêu \1 chưa được mô hình hóa"),
    (r"^definition (\S+) is not modelled: ", r"định nghĩa \1 chưa được mô hình hóa: "),
    (r"^deadline (\d+) is after the newest reading \((\d+)\)$", r"thời hạn \1 sau số liệu mới nhất (\2)"),
    (r"^no (\d+) reading$", r"chưa có số liệu năm \1"),
    (r"^no (\d+) year figure yet; readings dated earlier in \d+: (.*) \(the probability is a nowcast "
     r"conditioned on them\)$", r"chưa có số liệu cả năm \1; số liệu các tháng trước: \2 (xác suất là ước tính "
     r"hiện tại có điều kiện theo các số liệu này)"),
    (r"^(\d+) year figure (.*) against target (\S+): met", r"số liệu cả năm \1 \2 so với mục tiêu \3: đạt"),
    (r"^(\d+) year figure (.*) against target (\S+): missed", r"số liệu cả năm \1 \2 so với mục tiêu \3: không đạt"),
    (r"; earlier in (\d+): ", r"; số liệu các tháng trước trong năm \1: "),
    (r"^different seed \(", "khác hạt giống ("), (r"^different draws \(", "khác số lượt mô phỏng ("),
    (r"^different calibration \(", "khác hiệu chỉnh ("), (r"^different data \(", "khác số liệu ("),
    (r"not recorded", "không ghi"),
    (r"(?<![\d-])(\d+)\.(\d+)(?![\d-])", r"\1,\2"),             # decimal comma (not in dates like 2023-12)
)


def word(key: str, lang: str = "en", **values: Any) -> str:
    """A word or sentence of the report in ``lang``, formatted with ``values`` (``deciding_rule`` in English is
    the model's own ``core.verdicts.DECIDING_RULE``)."""
    template = table("report", style.check_lang(lang))[key]
    if key == "deciding_rule":
        values = {"rule": DECIDING_RULE, **values}
    return template.format(**values) if values else template


def _pick(name: str, value: Any, lang: str) -> str:
    """``value``'s words in table ``name`` of ``lang``; the value itself when the table does not list it."""
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return table(name, style.check_lang(lang)).get(text, text)


def status_name(status: Any, lang: str = "en") -> str:
    """A target's status (``met``, ``no reading``, ...) in ``lang``."""
    return _pick("status", status, lang)


def method_name(method: Any, lang: str = "en") -> str:
    """A forecasting method of the backtest and scorecard (``linear_trend``, ...) in words of ``lang``."""
    return _pick("methods", method, lang)


def pillar_name(pillar: Any, lang: str = "en") -> str:
    """An investment pillar (``broadband``, ...) in words of ``lang``."""
    return _pick("pillars", pillar, lang)


def evidence_name(evidence: Any, lang: str = "en") -> str:
    """What a probability rests on (``own``, ``pooled``, ``prior``) in words of ``lang``."""
    return _pick("evidence", evidence, lang)


def yes_no(value: Any, lang: str = "en") -> str:
    return word("yes" if bool(value) else "no", lang)


def note_text(note: Any, lang: str = "en") -> str:
    """A reason or outcome note of the model (English in the tables) in ``lang``; '' for a missing one."""
    text = "" if note is None or (isinstance(note, float) and np.isnan(note)) else str(note)
    text = re.sub(r" of [a-z0-9_@]+/[a-z0-9_]+/[a-z0-9_]*", "", text)     # the row names its series already
    if style.check_lang(lang) == "vi":
        for pattern, replacement in NOTES_VI:
            text = re.sub(pattern, replacement, text)
    return text


def num(value: Any, digits: int = 1, lang: str = "en") -> str:
    """A number with ``digits`` decimals (decimal comma in Vietnamese); '' for a missing one."""
    if value is None or isinstance(value, str) or pd.isna(value):
        return "" if value is None or not isinstance(value, str) else value
    return style.number(float(value), digits, lang)


def target_text(comparator: str, target: Any, lang: str = "en") -> str:
    """A target as the report shows it, e.g. '≥ 25%' (decimal comma in Vietnamese)."""
    return f"{style.comparator(comparator)}{value_text(target, lang)}%"


def value_text(value: Any, lang: str = "en") -> str:
    """A reading or target value as given (``%g``), with the language's decimal mark."""
    if value is None or pd.isna(value):
        return ""
    text = f"{float(value):g}"
    return text.replace(".", ",") if style.check_lang(lang) == "vi" else text


def factor_names(factors: Any, lang: str = "en") -> dict[str, str]:
    """Each sensitivity factor's name (``invest_broadband``) -> what it changes in words of ``lang``
    ('investment in broadband'). ``factors``: items with ``name``, ``kind`` and its target (``pillar``,
    ``geo``, ``indicator``, ``programme``) as attributes or keys (``Factor``, or a table of factors.toml)."""
    words = table("factors", style.check_lang(lang))
    out = {}
    for f in factors:
        get = f.get if isinstance(f, dict) else lambda key, default="", f=f: getattr(f, key, default)
        kind, geo = str(get("kind", "")), str(get("geo", "*") or "*")
        indicator = style.indicator_name(get("indicator"), lang) if get("indicator", "") else ""
        what = (indicator[:1].lower() + indicator[1:] if indicator
                else pillar_name(get("pillar"), lang) if get("pillar", "") else str(get("programme", "")))
        key = "investment_geo" if kind == "investment" and geo != "*" else kind
        if key in words:
            out[str(get("name"))] = words[key].format(what=what, geo=style.geo_name(geo, lang))
    return out


def factor_name(name: str, names: dict[str, str]) -> str:
    """A factor, or a pair of factors ('a:b', second-order indices), in words; a name not in ``names`` as is."""
    return " × ".join(names.get(part, part) for part in str(name).split(":"))
