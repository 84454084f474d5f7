"""The one chart style: colour-blind-safe palette, fonts, rcParams, and display names in each language (the
words themselves are in ``dxsim/data/words/<lang>.toml``, read by ``words.py``).

Colours are the Okabe-Ito palette (safe for the common colour-vision deficiencies). The font is DejaVu Sans,
which ships with matplotlib and has every Vietnamese glyph (Lạng Sơn, Hậu Giang, Trà Vinh). SVG text is kept
as text (``svg.fonttype = "none"``) so labels stay searchable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cycler import cycler

from dxsim.outputs.words import table

LANGS = ("en", "vi")
DPI = 300                                   # PNG resolution, dots per inch
FORMATS = ("png", "svg")
DOC_WIDTH = 16 / 2.54                       # inches: charts are drawn 16 cm wide, the text width of an A4 page
MIN_FONT = 7.0                              # points: the smallest text on a chart at that width
NATIONAL = "vietnam"                        # the national series: GDP, not GRDP

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}
PALETTE = tuple(OKABE_ITO[k] for k in ("blue", "orange", "bluish_green", "reddish_purple", "sky_blue",
                                       "vermillion", "yellow", "black"))
FAN_COLOR = OKABE_ITO["blue"]
TARGET_COLOR = OKABE_ITO["vermillion"]
OBSERVED_COLOR = "#222222"
MUTED = "#666666"
OBSERVATION_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "h")
# Fan bands, widest first: (lower quantile column, upper quantile column, coverage in percent, fill alpha).
BANDS = (("q025", "q975", 95, 0.16), ("q10", "q90", 80, 0.22), ("q25", "q75", 50, 0.30))

# Likelihood bands for P(target met), from the IPCC calibrated language: (lower bound, key, colour).
LIKELIHOOD = (
    (0.90, "very_likely", OKABE_ITO["bluish_green"]),
    (0.66, "likely", OKABE_ITO["sky_blue"]),
    (0.33, "as_likely_as_not", OKABE_ITO["yellow"]),
    (0.10, "unlikely", OKABE_ITO["orange"]),
    (0.00, "very_unlikely", OKABE_ITO["vermillion"]),
)

RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8.0,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.titley": 1.0,                     # a fixed title position skips matplotlib's slow auto-placement
    "axes.labelsize": 8.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.prop_cycle": cycler(color=list(PALETTE)),
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "svg.fonttype": "none",
    "svg.hashsalt": "dxsim",
    "savefig.dpi": DPI,
    "figure.dpi": 100,
}


def likelihood(p: float) -> tuple[str, str]:
    """(likelihood key, colour) of a probability in [0, 1]."""
    for lo, key, colour in LIKELIHOOD:
        if p >= lo:
            return key, colour
    return LIKELIHOOD[-1][1], LIKELIHOOD[-1][2]


# Pre-2025 provinces (calibration/merger_2025.csv, old_province) and the nation; names with diacritics.
GEO_NAMES: dict[str, str] = {
    "an_giang": "An Giang", "ba_ria_vung_tau": "Bà Rịa – Vũng Tàu", "bac_giang": "Bắc Giang",
    "bac_kan": "Bắc Kạn", "bac_lieu": "Bạc Liêu", "bac_ninh": "Bắc Ninh", "ben_tre": "Bến Tre",
    "binh_dinh": "Bình Định", "binh_duong": "Bình Dương", "binh_phuoc": "Bình Phước",
    "binh_thuan": "Bình Thuận", "ca_mau": "Cà Mau", "can_tho": "Cần Thơ", "cao_bang": "Cao Bằng",
    "da_nang": "Đà Nẵng", "dak_lak": "Đắk Lắk", "dak_nong": "Đắk Nông", "dien_bien": "Điện Biên",
    "dong_nai": "Đồng Nai", "dong_thap": "Đồng Tháp", "gia_lai": "Gia Lai", "ha_giang": "Hà Giang",
    "ha_nam": "Hà Nam", "ha_noi": "Hà Nội", "ha_tinh": "Hà Tĩnh", "hai_duong": "Hải Dương",
    "hai_phong": "Hải Phòng", "hau_giang": "Hậu Giang", "ho_chi_minh_city": "Hồ Chí Minh City",
    "hoa_binh": "Hòa Bình", "hung_yen": "Hưng Yên", "khanh_hoa": "Khánh Hòa", "kien_giang": "Kiên Giang",
    "kon_tum": "Kon Tum", "lai_chau": "Lai Châu", "lam_dong": "Lâm Đồng", "lang_son": "Lạng Sơn",
    "lao_cai": "Lào Cai", "long_an": "Long An", "nam_dinh": "Nam Định", "nghe_an": "Nghệ An",
    "ninh_binh": "Ninh Bình", "ninh_thuan": "Ninh Thuận", "phu_tho": "Phú Thọ", "phu_yen": "Phú Yên",
    "quang_binh": "Quảng Bình", "quang_nam": "Quảng Nam", "quang_ngai": "Quảng Ngãi",
    "quang_ninh": "Quảng Ninh", "quang_tri": "Quảng Trị", "soc_trang": "Sóc Trăng", "son_la": "Sơn La",
    "tay_ninh": "Tây Ninh", "thai_binh": "Thái Bình", "thai_nguyen": "Thái Nguyên", "thanh_hoa": "Thanh Hóa",
    "thua_thien_hue": "Thừa Thiên Huế", "tien_giang": "Tiền Giang", "tra_vinh": "Trà Vinh",
    "tuyen_quang": "Tuyên Quang", "vinh_long": "Vĩnh Long", "vinh_phuc": "Vĩnh Phúc", "yen_bai": "Yên Bái",
    "vietnam": "Vietnam", "hue": "Huế",        # hue: the 34-province name of Thua Thien Hue (since 1 July 2025)
}
GEO_NAMES_VI: dict[str, str] = {**GEO_NAMES, "vietnam": "Việt Nam", "ho_chi_minh_city": "TP. Hồ Chí Minh"}

COMPARATORS = {">=": "≥ ", ">": "> ", "<=": "≤ ", "<": "< "}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGS)}")
    return lang


def geo_name(geo: str, lang: str = "en") -> str:
    """Display name of a geo id with diacritics, e.g. lang_son -> 'Lạng Sơn'; a pre-merger extent
    (``tay_ninh@pre2025``, geography.py) -> 'Tây Ninh (before 7/2025)'."""
    names = GEO_NAMES_VI if check_lang(lang) == "vi" else GEO_NAMES
    base, pre = (geo[:-len("@pre2025")], True) if geo.endswith("@pre2025") else (geo, False)
    name = names.get(base, base.replace("_", " ").title())
    return f"{name} ({'trước 7/2025' if lang == 'vi' else 'before 7/2025'})" if pre else name


def _national(name: str, geo: str | None) -> str:
    """The nation's economy is GDP; a province's is GRDP."""
    return name.replace("GRDP", "GDP") if geo == NATIONAL else name


def indicator_name(indicator: str, lang: str = "en", fallback: str | None = None, geo: str | None = None) -> str:
    """Display name of an indicator (of ``geo``: GDP for the nation); ``fallback`` (e.g. the config's label)
    for indicators not listed."""
    entry = table("indicators", check_lang(lang)).get(indicator)
    return _national(entry["name"] if entry else (fallback or indicator.replace("_", " ")), geo)


def indicator_unit(indicator: str, lang: str = "en", geo: str | None = None) -> str:
    """Y-axis label with the unit, e.g. '% of households' ('% of GDP' for the nation's digital economy)."""
    entry = table("indicators", check_lang(lang)).get(indicator)
    return _national(entry["unit"] if entry else text("percent", lang), geo)


def number(value: float, digits: int = 1, lang: str = "en") -> str:
    """A number with ``digits`` decimals in the language's format (decimal comma in Vietnamese)."""
    out = f"{value:.{digits}f}"
    return out.replace(".", ",") if check_lang(lang) == "vi" else out


def definition_name(definition: str, lang: str = "en") -> str:
    return table("definitions", check_lang(lang)).get(definition, definition.replace("_", " "))


def text(key: str, lang: str = "en", **values: Any) -> str:
    """A label of the current language, formatted with ``values``."""
    template = table("chart", check_lang(lang))[key]
    return template.format(**values) if values else template


def comparator(op: str) -> str:
    return COMPARATORS.get(op, op)


def rc(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """rcParams for ``matplotlib.rc_context``."""
    return {**RC, **(overrides or {})}
