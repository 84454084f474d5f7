"""Names of plan documents (targets.csv ``document``) in English and Vietnamese.

The data name most documents in English. In Vietnamese a document gets, in this order: the Vietnamese name the data
give in parentheses ("Đề án ..."); the report's Vietnamese rendering of the data's English name (``VI_NAMES``, a
translation of that name, nothing added); else its kind and number in Vietnamese ("Quyết định 749/QĐ-TTg") and the
rest as the data give it. Province names are spelt with their diacritics in both languages.
"""

from __future__ import annotations

import re

from dxsim.outputs.style import GEO_NAMES, NATIONAL, check_lang

KINDS_VI = {"Politburo Resolution": "Nghị quyết Bộ Chính trị", "Resolution": "Nghị quyết", "Decision": "Quyết định",
            "Plan": "Kế hoạch"}
NATIVE = re.compile(r"\(((?:Đề án|Kế hoạch|Quyết định|Nghị quyết|Chương trình)[^()]*)\)")

# The data's English names (as in targets.csv, spaces collapsed) -> Vietnamese.
VI_NAMES: dict[str, str] = {
    "Decision 749/QĐ-TTg (3/6/2020) National DX Program":
        "Quyết định 749/QĐ-TTg (3/6/2020) về Chương trình Chuyển đổi số quốc gia",
    "Decision 942/QĐ-TTg (15/6/2021) e-Gov→digital Gov strategy":
        "Quyết định 942/QĐ-TTg (15/6/2021) về Chiến lược phát triển Chính phủ điện tử hướng tới Chính phủ số",
    "Decision 411/QĐ-TTg (31/3/2022) digital economy & society strategy":
        "Quyết định 411/QĐ-TTg (31/3/2022) về Chiến lược quốc gia phát triển kinh tế số và xã hội số",
    "Politburo Resolution 52-NQ/TW (27/9/2019)": "Nghị quyết 52-NQ/TW (27/9/2019) của Bộ Chính trị",
    "Politburo Resolution 52-NQ/TW (27/9/2019) on Industry 4.0":
        "Nghị quyết 52-NQ/TW (27/9/2019) của Bộ Chính trị về Cách mạng công nghiệp lần thứ tư",
    "Politburo Resolution 57-NQ/TW (22/12/2024) on breakthroughs in S&T, innovation and national DX":
        "Nghị quyết 57-NQ/TW (22/12/2024) của Bộ Chính trị về đột phá phát triển khoa học, công nghệ, đổi mới sáng "
        "tạo và chuyển đổi số quốc gia",
    "Politburo Resolution 57-NQ/TW (22/12/2024), as summarised by dxcenter.org.vn":
        "Nghị quyết 57-NQ/TW (22/12/2024) của Bộ Chính trị, theo tóm tắt của dxcenter.org.vn",
    "National Committee on DX 2023 Action Plan": "Kế hoạch hành động năm 2023 của Ủy ban Quốc gia về chuyển đổi số",
    "MIC 2023 annual plan target": "Mục tiêu kế hoạch năm 2023 của Bộ Thông tin và Truyền thông",
    "State Bank of Vietnam 2022 target": "Mục tiêu năm 2022 của Ngân hàng Nhà nước Việt Nam",
    "Decision 11/QĐ-BCĐCP: 2026 operating plan of the Government Steering Committee on S&T, innovation, DX and "
    "Project 06": "Quyết định 11/QĐ-BCĐCP: Kế hoạch hoạt động năm 2026 của Ban Chỉ đạo của Chính phủ về khoa học, "
                  "công nghệ, đổi mới sáng tạo, chuyển đổi số và Đề án 06",
    "2026 work programme of the Central Steering Committee on S&T, innovation and DX":
        "Chương trình công tác năm 2026 của Ban Chỉ đạo Trung ương về khoa học, công nghệ, đổi mới sáng tạo và "
        "chuyển đổi số",
    "Decision 1132/QĐ-TTg (9/10/2024) Digital Infrastructure Strategy to 2025, orientation 2030":
        "Quyết định 1132/QĐ-TTg (9/10/2024) về Chiến lược hạ tầng số đến năm 2025, định hướng đến năm 2030",
    "Decision 36/QĐ-TTg (11/1/2024) ICT infrastructure planning 2021-2030, vision 2050":
        "Quyết định 36/QĐ-TTg (11/1/2024) về Quy hoạch hạ tầng thông tin và truyền thông thời kỳ 2021-2030, tầm "
        "nhìn đến năm 2050",
    "Long An DX targets to 2025 as reported by Báo Long An":
        "Mục tiêu chuyển đổi số tỉnh Long An đến năm 2025 (theo Báo Long An)",
    "Long An provincial 2021 target": "Mục tiêu năm 2021 của tỉnh Long An",
    "Long An digital transformation programme to 2025 (approved 4 Nov 2021), as reported in 'Long An will "
    "implement the conversion model...'": "Chương trình chuyển đổi số tỉnh Long An đến năm 2025 (phê duyệt "
                                         "4/11/2021), theo bài 'Long An will implement the conversion model...'",
    "Lang Son Plan 135/KH-UBND (10/8/2020) implementing Decision 749":
        "Kế hoạch 135/KH-UBND (10/8/2020) của tỉnh Lạng Sơn thực hiện Quyết định 749",
    "Lang Son Plan 131/KH-UBND (6/6/2022) implementing Decision 411":
        "Kế hoạch 131/KH-UBND (6/6/2022) của tỉnh Lạng Sơn thực hiện Quyết định 411",
    "Lang Son Resolution 49-NQ/TU (28/9/2021) — top-10 DTI goal":
        "Nghị quyết 49-NQ/TU (28/9/2021) của Tỉnh ủy Lạng Sơn — mục tiêu vào top 10 DTI",
    "Lang Son DX Plan for 2025 (Plan 246/KH-UBND, 6/11/2024)":
        "Kế hoạch 246/KH-UBND (6/11/2024) về chuyển đổi số tỉnh Lạng Sơn năm 2025",
    "1st Congress (13/8/2025) of the Party Committee of Lang Son PROVINCIAL PEOPLE'S COMMITTEE, term 2025-2030":
        "Đại hội Đảng bộ Ủy ban nhân dân tỉnh Lạng Sơn lần thứ I (13/8/2025), nhiệm kỳ 2025-2030",
    "Hau Giang Plan 128/KH-UBND (4/7/2022) on digital economy & society to 2025/2030":
        "Kế hoạch 128/KH-UBND (4/7/2022) của tỉnh Hậu Giang về kinh tế số và xã hội số đến năm 2025, 2030",
    "Hau Giang 2022 DX targets (provincial Vice Chair, 31/5/2022)":
        "Mục tiêu chuyển đổi số năm 2022 của tỉnh Hậu Giang (Phó Chủ tịch UBND tỉnh, 31/5/2022)",
    "Hau Giang 2022 DX targets": "Mục tiêu chuyển đổi số năm 2022 của tỉnh Hậu Giang",
    "Tra Vinh Plan 50/KH-UBND (12/7/2022) implementing Resolution 09-NQ/TU (26/1/2022)":
        "Kế hoạch 50/KH-UBND (12/7/2022) của tỉnh Trà Vinh thực hiện Nghị quyết 09-NQ/TU (26/1/2022)",
    "Tra Vinh Plan 59/KH-UBND (19/9/2022) on digital economy & society 2022-2025, orientation 2030":
        "Kế hoạch 59/KH-UBND (19/9/2022) của tỉnh Trà Vinh về kinh tế số và xã hội số giai đoạn 2022-2025, định "
        "hướng đến năm 2030",
    "Tra Vinh 2023 plan for DX in New Rural Development programme":
        "Kế hoạch năm 2023 của tỉnh Trà Vinh về chuyển đổi số trong Chương trình xây dựng nông thôn mới",
    "Resolution of the 1st Congress of Vinh Long Provincial Party Committee 2025-2030 (Oct 2025)":
        "Nghị quyết Đại hội Đảng bộ tỉnh Vĩnh Long lần thứ I, nhiệm kỳ 2025-2030 (10/2025)",
    "Vinh Long DX plan to 2025, orientation 2030":
        "Kế hoạch chuyển đổi số tỉnh Vĩnh Long đến năm 2025, định hướng đến năm 2030",
    "Tay Ninh Plan 2087/KH-UBND (Nov 2025) implementing Res 71/NQ-CP and Plan 10-KH/TU for 2025-2026":
        "Kế hoạch 2087/KH-UBND (11/2025) của tỉnh Tây Ninh thực hiện Nghị quyết 71/NQ-CP và Kế hoạch 10-KH/TU "
        "giai đoạn 2025-2026",
}


def _with_diacritics(doc: str) -> str:
    for geo, name in GEO_NAMES.items():
        plain = geo.replace("_", " ").title()
        if plain != name and geo != NATIONAL:
            doc = doc.replace(plain, name)
    return doc


def document_name(document: str, lang: str = "en") -> str:
    """A plan document's name in ``lang`` (see the module's docstring for the Vietnamese)."""
    doc = " ".join(str(document).split())
    if check_lang(lang) == "en":
        return _with_diacritics(doc)
    native = NATIVE.search(doc)
    if native:
        return native.group(1).split(";")[0].strip()
    if doc in VI_NAMES:
        return VI_NAMES[doc]
    doc = _with_diacritics(doc)
    provinces = "|".join(re.escape(n) for g, n in GEO_NAMES.items() if g != NATIONAL)
    kinds = "|".join(KINDS_VI)
    return re.sub(rf"^(?:({provinces}) )?({kinds}) (\S*\d\S*)",
                  lambda m: f"{KINDS_VI[m[2]]} {m[3]}" + (f" tỉnh {m[1]}" if m[1] else ""), doc)
