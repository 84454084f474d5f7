"""The one chart style: colour-blind-safe palette, fonts, rcParams, and English/Vietnamese display names.

Colours are the Okabe-Ito palette (safe for the common colour-vision deficiencies). The font is DejaVu Sans,
which ships with matplotlib and has every Vietnamese glyph (Lạng Sơn, Hậu Giang, Trà Vinh). SVG text is kept
as text (``svg.fonttype = "none"``) so labels stay searchable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cycler import cycler

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

# Indicator: (name, y-axis unit label).
INDICATORS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "fiber_household_share": ("Households with fibre broadband", "% of households"),
        "online_dossier_share": ("Administrative dossiers online", "% of dossiers"),
        "digital_economy_grdp_share": ("Digital economy, share of GRDP", "% of GRDP"),
        "internal_work_online_share": ("Internal work files handled online", "% of work files"),
        "level4_service_share": ("Public services offered at level 4", "% of public services"),
        "commune_fiber_share": ("Communes with fibre", "% of communes"),
        "internet_users_share": ("Internet users", "% of population"),
        "household_internet_share": ("Households with Internet", "% of households"),
        "smartphone_adult_share": ("Adults with a smartphone", "% of adults"),
        "epayment_account_share": ("Adults with an e-payment account", "% of adults"),
        "ecommerce_enterprise_share": ("Enterprises selling online", "% of enterprises"),
        "level3_service_share": ("Public services offered at level 3", "% of public services"),
        "level3_4_service_share": ("Public services offered at level 3 or 4", "% of public services"),
    },
    "vi": {
        "fiber_household_share": ("Hộ gia đình có cáp quang băng rộng", "% hộ gia đình"),
        "online_dossier_share": ("Hồ sơ thủ tục hành chính trực tuyến", "% hồ sơ"),
        "digital_economy_grdp_share": ("Tỷ trọng kinh tế số trong GRDP", "% GRDP"),
        "internal_work_online_share": ("Hồ sơ công việc xử lý trên môi trường mạng", "% hồ sơ công việc"),
        "level4_service_share": ("Dịch vụ công trực tuyến mức độ 4", "% dịch vụ công"),
        "commune_fiber_share": ("Xã có cáp quang", "% xã"),
        "internet_users_share": ("Người sử dụng Internet", "% dân số"),
        "household_internet_share": ("Hộ gia đình có Internet", "% hộ gia đình"),
        "smartphone_adult_share": ("Người trưởng thành có điện thoại thông minh", "% người trưởng thành"),
        "epayment_account_share": ("Người trưởng thành có tài khoản thanh toán điện tử",
                                   "% người trưởng thành"),
        "ecommerce_enterprise_share": ("Doanh nghiệp bán hàng trực tuyến", "% doanh nghiệp"),
        "level3_service_share": ("Dịch vụ công trực tuyến mức độ 3", "% dịch vụ công"),
        "level3_4_service_share": ("Dịch vụ công trực tuyến mức độ 3 và 4", "% dịch vụ công"),
    },
}

DEFINITIONS: dict[str, dict[str, str]] = {
    "en": {
        "subscription": "subscription", "coverage": "coverage",
        "submitted_online": "submitted online", "processed_online": "processed online",
        "full_process": "handled online end to end", "services_with_dossiers": "services with dossiers",
        "mic_method": "MIC method", "gso_method": "GSO method", "unspecified_method": "method not stated",
        "province_level": "province level", "district_level": "district level",
        "commune_level": "commune level", "ministry_level": "ministry level",
        "all_services": "all services", "eligible_base": "eligible services", "all_levels": "all levels",
        "adults_bank_account": "adults with a bank account", "coverage_users_1gbps": "users who can reach 1 Gb/s",
        "all_services_online_unspecified": "online services, base not stated",
        "pct_households": "% of households", "pct_individuals": "% of individuals", "per100_people": "per 100 people",
        "share_of_adults": "share of adults", "share_of_population": "share of population",
        "share_of_mobile_users": "share of mobile users", "rank_of_63": "rank of 63",
    },
    "vi": {
        "subscription": "thuê bao", "coverage": "vùng phủ",
        "submitted_online": "nộp trực tuyến", "processed_online": "xử lý trực tuyến",
        "full_process": "trực tuyến toàn trình", "services_with_dossiers": "dịch vụ có phát sinh hồ sơ",
        "mic_method": "phương pháp Bộ TT&TT", "gso_method": "phương pháp TCTK",      # Tổng cục Thống kê
        "unspecified_method": "không rõ phương pháp",
        "province_level": "cấp tỉnh", "district_level": "cấp huyện", "commune_level": "cấp xã",
        "ministry_level": "cấp bộ", "all_services": "tất cả dịch vụ", "eligible_base": "dịch vụ đủ điều kiện",
        "all_levels": "mọi cấp", "adults_bank_account": "người trưởng thành có tài khoản ngân hàng",
        "coverage_users_1gbps": "người dùng truy cập được 1 Gb/s",
        "all_services_online_unspecified": "dịch vụ trực tuyến, không rõ cơ sở tính",
        "pct_households": "% hộ gia đình", "pct_individuals": "% cá nhân", "per100_people": "trên 100 người",
        "share_of_adults": "tỷ lệ người trưởng thành", "share_of_population": "tỷ lệ dân số",
        "share_of_mobile_users": "tỷ lệ người dùng di động", "rank_of_63": "thứ hạng trong 63 tỉnh",
    },
}

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "year": "Year", "percent": "Percent", "median": "Median", "band": "{coverage}% band",
        "observed": "Observed", "reading": "Reading ({source})", "target": "Target (plan document)",
        "observed_period": "observed", "projected_period": "projected",
        "footnote": "dxsim {version} · scenario {scenario} · calibration {config} ({sha}, data to "
                    "{jump_off}) · {draws} draws · {created}",
        "target_label": "{document}: {comparator}{target:g}%",
        "newest_readings": "Newest reading per headline series: ",
        "newest_series": "{jump_off}; newest reading of this series {date}",
        "evaluated_as": "{definition}, as {evaluated}",
        "probability_title": "Probability of meeting each target ({scenario})",
        "probability_axis": "P(target met) at the deadline",
        "probability_caption": "Bars: share of {draws} simulated futures meeting the target; whiskers: "
                               "±2 Monte Carlo standard errors. Targets due {first} or later; {past} "
                               "earlier and {unevaluable} not evaluable targets are listed in "
                               "target_probabilities.csv.",
        "by": "by {year}", "more": " +{n} more",
        "no_reading_pooled": "no reading: pooled from {n} provinces",
        "no_reading_mapped": "no reading: prior mapping from {definition}",
        "modelled_period": "model",
        "target_other_definition": "Target in another definition",
        "difference": "{name} minus {base}: median and 80% band",
        "difference_paired": "{name} minus {base}, draw by draw (same seed, draws, calibration and data): median "
                             "and 80% band",
        "difference_unpaired": "{name} minus {base}: difference of the medians and of the 10% and 90% quantiles "
                               "(not paired: {why})",
        "unpaired_seed": "different seeds", "unpaired_draws": "different numbers of draws",
        "unpaired_file": "no headline_draws.npz", "unpaired_calibration": "different calibrations",
        "unpaired_data": "different data",
        "difference_axis": "difference, points",
        "overview_title": "Headline indicators, scenario {scenario}: median, 50% and 80% bands",
        "compare_title": "{geo}: {indicator} ({definition})",
        "compare_band": "{name}: median and 80% band",
        "very_likely": "very likely (≥ 0.90)", "likely": "likely (0.66-0.90)",
        "as_likely_as_not": "about as likely as not (0.33-0.66)", "unlikely": "unlikely (0.10-0.33)",
        "very_unlikely": "very unlikely (< 0.10)",
    },
    "vi": {
        "year": "Năm", "percent": "Phần trăm", "median": "Trung vị", "band": "Khoảng {coverage}%",
        "observed": "Số liệu thực tế", "reading": "Số liệu ({source})",
        "target": "Mục tiêu (văn bản kế hoạch)",
        "observed_period": "thực tế", "projected_period": "dự báo",
        "footnote": "dxsim {version} · kịch bản {scenario} · hiệu chỉnh {config} ({sha}, số liệu đến "
                    "{jump_off}) · {draws} lượt mô phỏng · {created}",
        "target_label": "{document}: {comparator}{target:g}%",
        "newest_readings": "Số liệu mới nhất của từng chuỗi chính: ",
        "newest_series": "{jump_off}; số liệu mới nhất của chuỗi này {date}",
        "evaluated_as": "{definition}, tính theo {evaluated}",
        "probability_title": "Xác suất đạt từng mục tiêu ({scenario})",
        "probability_axis": "Xác suất đạt mục tiêu tại thời hạn",
        "probability_caption": "Thanh: tỷ lệ trong {draws} kịch bản mô phỏng đạt mục tiêu; râu: ±2 sai số "
                               "Monte Carlo. Mục tiêu có thời hạn từ {first}; {past} mục tiêu sớm hơn và "
                               "{unevaluable} mục tiêu không đánh giá được có trong "
                               "target_probabilities.csv.",
        "by": "đến {year}", "more": " và {n} văn bản khác",
        "no_reading_pooled": "chưa có số liệu: gộp từ {n} tỉnh",
        "no_reading_mapped": "chưa có số liệu: ánh xạ tiên nghiệm từ {definition}",
        "modelled_period": "mô hình",
        "target_other_definition": "Mục tiêu theo định nghĩa khác",
        "difference": "{name} trừ {base}: trung vị và khoảng 80%",
        "difference_paired": "{name} trừ {base}, theo từng lượt mô phỏng (cùng hạt giống, số lượt, hiệu chỉnh và "
                             "số liệu): trung vị và khoảng 80%",
        "difference_unpaired": "{name} trừ {base}: hiệu các trung vị và các phân vị 10% và 90% (không ghép cặp: "
                               "{why})",
        "unpaired_seed": "khác hạt giống", "unpaired_draws": "khác số lượt mô phỏng",
        "unpaired_file": "không có headline_draws.npz", "unpaired_calibration": "khác hiệu chỉnh",
        "unpaired_data": "khác số liệu",
        "difference_axis": "chênh lệch, điểm phần trăm",
        "overview_title": "Các chỉ tiêu chính, kịch bản {scenario}: trung vị, khoảng 50% và 80%",
        "compare_title": "{geo}: {indicator} ({definition})",
        "compare_band": "{name}: trung vị và khoảng 80%",
        "very_likely": "rất có khả năng (≥ 0,90)", "likely": "có khả năng (0,66-0,90)",
        "as_likely_as_not": "khả năng ngang nhau (0,33-0,66)", "unlikely": "ít khả năng (0,10-0,33)",
        "very_unlikely": "rất ít khả năng (< 0,10)",
    },
}
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
    entry = INDICATORS[check_lang(lang)].get(indicator)
    return _national(entry[0] if entry else (fallback or indicator.replace("_", " ")), geo)


def indicator_unit(indicator: str, lang: str = "en", geo: str | None = None) -> str:
    """Y-axis label with the unit, e.g. '% of households' ('% of GDP' for the nation's digital economy)."""
    entry = INDICATORS[check_lang(lang)].get(indicator)
    return _national(entry[1] if entry else TEXT[lang]["percent"], geo)


def number(value: float, digits: int = 1, lang: str = "en") -> str:
    """A number with ``digits`` decimals in the language's format (decimal comma in Vietnamese)."""
    out = f"{value:.{digits}f}"
    return out.replace(".", ",") if check_lang(lang) == "vi" else out


def definition_name(definition: str, lang: str = "en") -> str:
    return DEFINITIONS[check_lang(lang)].get(definition, definition.replace("_", " "))


def text(key: str, lang: str = "en", **values: Any) -> str:
    """A label of the current language, formatted with ``values``."""
    template = TEXT[check_lang(lang)][key]
    return template.format(**values) if values else template


def comparator(op: str) -> str:
    return COMPARATORS.get(op, op)


def rc(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """rcParams for ``matplotlib.rc_context``."""
    return {**RC, **(overrides or {})}
