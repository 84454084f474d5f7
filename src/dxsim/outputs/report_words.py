"""Every word of ``report.html`` as an (English, Vietnamese) pair, and the report's number format.

Chart words are in ``style.TEXT``, the two maps' words in ``mapparts.WORDS`` and plan documents' names in
``document_names``; everything else the report says is here. Numbers in Vietnamese take a decimal comma.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from dxsim.core.verdicts import DECIDING_RULE
from dxsim.outputs import style

WORDS: dict[str, tuple[str, str]] = {
    # title, meta, section titles
    "report_title": ("dxsim report", "Báo cáo dxsim"),
    "meta": ("Written by dxsim {version} on {created} from {folders}. Values are percent; intervals are Monte "
             "Carlo quantiles. Self-contained: opens offline.",
             "Do dxsim {version} lập ngày {created} từ {folders}. Giá trị tính theo phần trăm; các khoảng là phân vị "
             "Monte Carlo. Tệp độc lập: mở được khi không có mạng."),
    "brief": ("Brief", "Tóm tắt"),
    "summary": ("summary", "tổng hợp"),
    "verdicts": ("targets judged on their readings", "mục tiêu đánh giá theo số liệu thực tế"),
    "probabilities": ("target probabilities", "xác suất đạt mục tiêu"),
    "charts": ("forecasts", "dự báo"),
    "scenario": ("scenario assumptions", "giả định của kịch bản"),
    "calibration": ("calibration used", "hiệu chỉnh mô hình"),
    "sources": ("data sources", "nguồn số liệu"),
    "comparison": ("Scenario comparison", "So sánh kịch bản"),
    "skill": ("Forecast skill", "Độ chính xác dự báo"),
    # the brief
    "headline": ("Headline numbers (percent)", "Các con số chính (phần trăm)"),
    "latest": ("Latest reading", "Số liệu mới nhất"),
    "median_interval": ("{year}: median [80% interval]", "{year}: trung vị [khoảng 80%]"),
    "targets": ("Targets", "Mục tiêu"),
    "change": ("Change vs {base}", "Thay đổi so với {base}"),
    "changed": ("What changes against {base}", "Thay đổi so với {base}"),
    "caveats": ("Caveats", "Lưu ý"),
    "no_targets": ("No target of this geo is due in the projected years.",
                   "Không có mục tiêu nào của địa phương này đến hạn trong các năm dự báo."),
    "pooled": ("{indicator} ({definition}): {note}; the probabilities that rest on it rest on no reading of this geo.",
               "{indicator} ({definition}): {note}; các xác suất dựa trên chuỗi này không dựa trên số liệu nào của "
               "địa phương."),
    "mapped_target": ("{n} target(s) stated in another definition are evaluated through the definition mapping "
                      "(shown as 'x, as y').",
                      "{n} mục tiêu nêu theo định nghĩa khác được đánh giá qua ánh xạ định nghĩa (ghi 'x, theo y')."),
    "stale": ("Newest reading used: {dates}.", "Số liệu mới nhất được dùng: {dates}."),
    "no_change": ("No target's probability moves by 0.05 or more.",
                  "Không có xác suất mục tiêu nào thay đổi từ 0,05 trở lên."),
    "none_reading": ("none", "không có"),
    "old_map": ("Provinces on the pre-2025 map ({n}: {names})", "Tỉnh theo bản đồ trước 2025 ({n}: {names})"),
    # column headers
    "geo": ("Geo", "Địa phương"), "indicator": ("Indicator", "Chỉ tiêu"), "definition": ("Definition", "Định nghĩa"),
    "target": ("Target", "Mục tiêu"), "deadline": ("Deadline", "Thời hạn"), "probability": ("P(met)", "Xác suất đạt"),
    "status": ("Status", "Tình trạng"), "evidence": ("Evidence", "Căn cứ"), "document": ("Document", "Văn bản"),
    "likelihood": ("Likelihood", "Mức khả năng"), "scope": ("Targets", "Nhóm mục tiêu"),
    "number": ("Number", "Số lượng"), "p_all": ("P(all met)", "Xác suất đạt tất cả"), "reason": ("Reason", "Lý do"),
    "year": ("Year", "Năm"), "value": ("Value (%)", "Giá trị (%)"), "source": ("Source", "Nguồn"),
    "quote": ("Quote", "Trích dẫn"), "reading": ("Reading", "Số liệu"), "readings_rule": ("Readings", "Các số liệu"),
    # summary
    "sum_headline": ("Headline indicators: median [80% interval], percent",
                     "Các chỉ tiêu chính: trung vị [khoảng 80%], phần trăm"),
    "projections_start": ("{newest}; projections start in {first}.", "{newest}; dự báo bắt đầu từ năm {first}."),
    "sum_targets": ("Probability of meeting each target due {first} or later",
                    "Xác suất đạt từng mục tiêu có thời hạn từ {first}"),
    "sum_note": ("± two Monte Carlo standard errors.", "± hai sai số chuẩn Monte Carlo."),
    "all_met": ("Probability that all of a geo's targets are met", "Xác suất đạt tất cả mục tiêu của địa phương"),
    "unevaluable": ("{n} targets the model cannot evaluate, and why",
                    "{n} mục tiêu mô hình không đánh giá được và lý do"),
    "past": ("{n} evaluable targets were due before {first} (observed years); their probabilities are in "
             "target_probabilities.csv.",
             "{n} mục tiêu đánh giá được có thời hạn trước {first} (các năm đã có số liệu); xác suất của chúng có "
             "trong target_probabilities.csv."),
    # verdicts
    "verdict_note": ("{n} targets were due in a year whose figure is published: their status is what happened, the "
                     "probability what the model fitted to every reading gives. Rule: {rule}. A target due in a year "
                     "with readings but no year figure yet is a nowcast, conditioned on them.",
                     "{n} mục tiêu đến hạn vào năm đã công bố số liệu cả năm: tình trạng là điều đã xảy ra, xác suất "
                     "là kết quả của mô hình hiệu chỉnh theo mọi số liệu. Quy tắc: {rule}. Mục tiêu đến hạn vào năm "
                     "đã có số liệu nhưng chưa có số liệu cả năm là ước tính hiện tại, có điều kiện theo các số "
                     "liệu đó."),
    "deciding_rule": (DECIDING_RULE,
                      "số liệu cả năm của năm đến hạn (số liệu không ghi kỳ, hoặc ghi tháng 12) quyết định; số liệu "
                      "các tháng trước trong năm được liệt kê nhưng không quyết định; số liệu đã được thay thế và số "
                      "liệu bị loại trong cấu hình hiệu chỉnh không được tính"),
    "no_status": ("This run has no status column (it was written before dxsim judged targets on their readings); "
                  "run it again to see verdicts.",
                  "Lần chạy này không có cột tình trạng (được ghi trước khi dxsim đánh giá mục tiêu theo số liệu); "
                  "hãy chạy lại để xem kết quả đánh giá."),
    "not_evaluable": ("not evaluable", "không đánh giá được"),
    # probabilities chart, charts
    "probability_caption": ("P(target met) per geo and target, sorted", "Xác suất đạt theo địa phương và mục tiêu, "
                            "sắp xếp theo xác suất"),
    "overview": ("Overview", "Tổng quan"),
    "other_charts": ("Other series ({n} charts)", "Các chuỗi khác ({n} biểu đồ)"),
    "no_chart": ("{caption}: chart not available", "{caption}: không có biểu đồ"),
    # scenario
    "no_scenario": ("scenario.toml is not in the results folder.", "Thư mục kết quả không có scenario.toml."),
    "name": ("Name", "Tên"), "horizon": ("Horizon", "Năm cuối dự báo"), "geos": ("Geos", "Địa phương"),
    "draws_seed": ("Draws, seed", "Số lượt mô phỏng, hạt giống"),
    "investment_unit": ("Investment unit", "Đơn vị đầu tư"),
    "multiple": ("multiple (of the calibrated baseline effort)", "bội số (của mức nỗ lực cơ sở đã hiệu chỉnh)"),
    "investment": ("Investment", "Đầu tư"), "where": ("Where", "Ở đâu"), "pillar": ("Pillar", "Trụ cột"),
    "schedule": ("Schedule", "Lộ trình"), "all_geos": ("all geos", "mọi địa phương"),
    "from_year": ("from {year}: {value}", "từ {year}: {value}"),
    "throughout": ("{value} throughout", "{value} suốt kỳ"),
    "events": ("Events", "Sự kiện"), "event": ("Event", "Sự kiện"), "from": ("From", "Từ năm"),
    "speed": ("Speed ×", "Tốc độ ×"), "ceiling": ("Ceiling +pp", "Trần +điểm %"),
    "toml_as_run": ("scenario.toml as run", "scenario.toml như đã chạy"),
    # calibration
    "config": ("Config", "Cấu hình"), "config_sha": ("Config SHA-256", "SHA-256 của cấu hình"),
    "jump_off": ("Last year of data (jump-off)", "Năm cuối có số liệu (điểm xuất phát)"),
    "newest_per_series": ("Newest reading per headline series", "Số liệu mới nhất của từng chuỗi chính"),
    "as_of": ("Readings up to (as of)", "Số liệu tính đến"), "all": ("all", "tất cả"),
    "observations": ("Observations", "Số liệu quan sát"),
    "observations_sha": ("Observations SHA-256", "SHA-256 của số liệu quan sát"),
    "rows_used": ("Readings used", "Số liệu được dùng"), "targets_file": ("Targets", "Mục tiêu"),
    "version_run": ("dxsim version, run at", "Phiên bản dxsim, thời điểm chạy"),
    "hyper": ("Pooling and noise at the posterior mode", "Mức gộp và nhiễu tại mode hậu nghiệm"),
    "level_sd": ("Level sd", "Độ lệch chuẩn mức"), "slope_sd": ("Slope sd", "Độ lệch chuẩn độ dốc"),
    "obs_sd": ("Observation sd", "Độ lệch chuẩn quan sát"),
    "fit": ("Fit per geo and indicator", "Độ khớp theo địa phương và chỉ tiêu"),
    "fit_note": ("Pooled: no reading, the geo gets the national distribution; RMS residual in percentage points.",
                 "Gộp: không có số liệu, địa phương nhận phân phối chung; sai số RMS tính bằng điểm phần trăm."),
    "fit_table": ("Fit table", "Bảng độ khớp"),
    "n_observations": ("Readings", "Số liệu"),
    "definitions_observed": ("Definitions observed", "Định nghĩa có số liệu"),
    "pooled_col": ("Pooled", "Gộp"), "rms_residual_pp": ("RMS residual (points)", "Sai số RMS (điểm)"),
    "slope_per_year": ("Slope per year (points)", "Độ dốc mỗi năm (điểm)"),
    "yes": ("yes", "có"), "no": ("no", "không"),
    # sources
    "readings": ("{n} readings entered the fit for this scenario's geos; each links to its source",
                 "{n} số liệu được dùng để hiệu chỉnh cho các địa phương của kịch bản; mỗi số liệu dẫn nguồn"),
    "target_documents": ("Target documents ({n})", "Văn bản đặt mục tiêu ({n})"),
    # comparison
    "p_by_scenario": ("P(target met) by scenario", "Xác suất đạt mục tiêu theo kịch bản"),
    "not_comparable": ("These runs are not comparable draw for draw: their differences include Monte Carlo noise, "
                       "not only the scenarios' levers (run them with the same seed, draws, calibration and data):",
                       "Các lần chạy này không so sánh được theo từng lượt mô phỏng: chênh lệch gồm cả nhiễu Monte "
                       "Carlo, không chỉ tác động của kịch bản (hãy chạy cùng hạt giống, số lượt, hiệu chỉnh và số "
                       "liệu):"),
    "paired": ("{name} and {base} share their random numbers (same seed and draws): the difference panels take "
               "the difference draw by draw.",
               "{name} và {base} dùng chung các số ngẫu nhiên (cùng hạt giống và số lượt): phần chênh lệch được "
               "tính theo từng lượt mô phỏng."),
    "unpaired": ("{name} and {base} are not paired ({why}): the difference panels show the difference of the "
                 "medians and of the 10% and 90% quantiles, not an interval of the difference.",
                 "{name} và {base} không ghép cặp ({why}): phần chênh lệch là hiệu các trung vị và các phân vị 10% "
                 "và 90%, không phải khoảng của chênh lệch."),
    # skill
    "skill_note": ("From {folder}: rolling-origin backtest (forecasts made with the data available at each origin, "
                   "scored on later readings).",
                   "Từ {folder}: kiểm định lùi với gốc trượt (dự báo lập bằng số liệu có tại mỗi gốc, chấm điểm theo "
                   "số liệu sau đó)."),
    "skill_method": ("Method", "Phương pháp"), "skill_indicator": ("Indicator", "Chỉ tiêu"),
    "skill_definition": ("Definition", "Định nghĩa"), "skill_horizon": ("Horizon (years)", "Tầm dự báo (năm)"),
    "skill_n": ("Readings scored", "Số liệu được chấm"),
    "skill_mae_median": ("Median's absolute error (points)", "Sai số tuyệt đối của trung vị (điểm)"),
    "skill_coverage_50": ("In 50% interval", "Trong khoảng 50%"),
    "skill_coverage_80": ("In 80% interval", "Trong khoảng 80%"),
    "skill_coverage_95": ("In 95% interval", "Trong khoảng 95%"), "skill_crps": ("CRPS (points)", "CRPS (điểm)"),
    "pit": ("Calibration of the forecast intervals (PIT)", "Hiệu chuẩn của các khoảng dự báo (PIT)"),
    # track record (dxsim scorecard)
    "track_record": ("Track record", "Kết quả dự báo trong quá khứ"),
    "track_note": ("From {folder}: what dxsim said at each origin, with only the readings dated up to it, and what "
                   "happened. Brier score = (P − outcome)², mean over distinct targets (0 is perfect, 0.25 is always "
                   "saying 0.5); a baseline forecasts only series with readings at the origin, so compare it with "
                   "dxsim on the same targets or readings.",
                   "Từ {folder}: dxsim đã dự báo gì tại mỗi gốc, chỉ với các số liệu có đến thời điểm đó, và điều gì "
                   "đã xảy ra. Điểm Brier = (P − kết quả)², trung bình trên các mục tiêu khác nhau (0 là hoàn hảo, "
                   "0,25 là luôn nói 0,5); phương pháp cơ sở chỉ dự báo các chuỗi có số liệu tại gốc, nên hãy so "
                   "với dxsim trên cùng mục tiêu hoặc số liệu."),
    "origin": ("Origin", "Gốc dự báo"), "n_targets": ("Targets", "Số mục tiêu"), "brier": ("Brier", "Brier"),
    "brier_same": ("dxsim Brier, same targets", "Brier của dxsim, cùng mục tiêu"),
    "later_readings": ("Later readings", "Số liệu sau gốc"), "inside_80": ("Inside 80%", "Trong khoảng 80%"),
    "inside_80_same": ("dxsim inside 80%, same readings", "dxsim trong khoảng 80%, cùng số liệu"),
    "track_said": ("dxsim's probabilities and what happened", "Xác suất dxsim đưa ra và điều đã xảy ra"),
    "p_given": ("P(met) given", "Xác suất đạt đã đưa ra"),
    "median_given": ("Median [80%] given", "Trung vị [80%] đã đưa ra"), "outcome": ("Outcome", "Kết quả"),
    "track_held": ("dxsim's median and 80% interval for each of the {n} later readings",
                   "Trung vị và khoảng 80% của dxsim cho từng số liệu trong {n} số liệu sau gốc"),
    "date": ("Date", "Thời điểm"), "inside": ("Inside", "Nằm trong"),
    "track_chart": ("Probability given vs outcome, and later readings inside the 80% interval",
                    "Xác suất đã đưa ra so với kết quả, và số liệu sau gốc nằm trong khoảng 80%"),
    # policy (dxsim sensitivity, dxsim required-investment)
    "what_moves": ("What moves the targets ({scenario})", "Yếu tố tác động đến mục tiêu ({scenario})"),
    "what_takes": ("What it would take ({scenario})", "Cần đầu tư bao nhiêu ({scenario})"),
    "sobol_what": ("Sobol total index ST (share of the output's variance due to the factor, interactions included)",
                   "chỉ số Sobol toàn phần ST (phần phương sai của đầu ra do yếu tố gây ra, kể cả tương tác)"),
    "morris_what": ("Morris mu* (mean absolute effect of a step in the factor)",
                    "Morris mu* (tác động tuyệt đối trung bình của một bước thay đổi yếu tố)"),
    "sensitivity_note": ("From {folder}: {method} analysis, {evaluations} evaluations of {draws} draws each, every "
                         "one with the same draws and noise (common random numbers). Largest three factors per "
                         "output by {what}, with {level} confidence intervals; all indices in sensitivity.csv.",
                         "Từ {folder}: phân tích {method}, {evaluations} lần đánh giá, mỗi lần {draws} lượt mô "
                         "phỏng, cùng các lượt và nhiễu (số ngẫu nhiên chung). Ba yếu tố lớn nhất cho mỗi đầu ra "
                         "theo {what}, với khoảng tin cậy {level}; mọi chỉ số có trong sensitivity.csv."),
    "output": ("Output", "Đầu ra"), "at_scenario": ("At the scenario", "Tại kịch bản"),
    "largest_factors": ("Largest factors", "Các yếu tố lớn nhất"),
    "same_every_sample": ("the same in every sample", "như nhau ở mọi mẫu"),
    "sensitivity_chart": ("Sensitivity: {name}", "Độ nhạy: {name}"),
    "required_note": ("From {folder}: for each target, the smallest investment multiple of its pillar in its geo "
                      "(1 = the calibrated baseline effort, replacing the scenario's from the first projected year) "
                      "from which P(met) reaches {p}, found by bisection with the same draws and noise at every "
                      "multiple ({draws} draws).",
                      "Từ {folder}: với mỗi mục tiêu, bội số đầu tư nhỏ nhất vào trụ cột của nó tại địa phương (1 = "
                      "mức nỗ lực cơ sở đã hiệu chỉnh, thay cho mức của kịch bản từ năm dự báo đầu tiên) để xác "
                      "suất đạt lên tới {p}, tìm bằng chia đôi với cùng các lượt và nhiễu ở mọi bội số ({draws} "
                      "lượt mô phỏng)."),
    "series": ("Series", "Chuỗi số liệu"), "p_scenario": ("P in the scenario", "Xác suất trong kịch bản"),
    "answer": ("Answer", "Kết quả"),
    "required_more": ("{n} more target(s) cannot be moved by investment (due before it acts, upper bounds, or not "
                      "evaluable); listed with the reason in required_investment.csv.",
                      "{n} mục tiêu khác không thay đổi được nhờ đầu tư (đến hạn trước khi đầu tư có tác dụng, là "
                      "giới hạn trên, hoặc không đánh giá được); lý do có trong required_investment.csv."),
    "required_chart": ("P(target met) against the investment multiple: {name}",
                       "Xác suất đạt mục tiêu theo bội số đầu tư: {name}"),
}

PILLARS: dict[str, tuple[str, str]] = {
    "broadband": ("broadband", "hạ tầng băng rộng"), "digital_government": ("digital government", "chính quyền số"),
    "digital_economy": ("digital economy", "kinh tế số"),
}
METHODS: dict[str, tuple[str, str]] = {
    "dxsim": ("dxsim", "dxsim"), "dxsim_reading": ("dxsim (reading)", "dxsim (số liệu)"),
    "last_value": ("last value", "giá trị cuối"), "linear_trend": ("linear trend", "xu hướng tuyến tính"),
    "ets_damped": ("damped trend (ETS)", "xu hướng giảm dần (ETS)"),
    "national_shift": ("national shift", "dịch chuyển theo cả nước"),
    "combination": ("combination", "kết hợp"),
}

STATUS: dict[str, tuple[str, str]] = {
    "met": ("met", "đã đạt"), "missed": ("missed", "không đạt"), "disputed": ("disputed", "số liệu mâu thuẫn"),
    "no reading": ("no reading", "chưa có số liệu"), "nowcast": ("nowcast", "ước tính hiện tại"),
    "not due": ("not due", "chưa đến hạn"),
}
EVIDENCE: dict[str, tuple[str, str]] = {
    "own": ("own readings", "số liệu của địa phương"), "pooled": ("pooled from other geos", "gộp từ địa phương khác"),
    "prior": ("prior only (definition mapping)", "chỉ tiên nghiệm (ánh xạ định nghĩa)"),
}
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
    """A word or sentence of the report in ``lang``, formatted with ``values``."""
    template = WORDS[key][style.LANGS.index(style.check_lang(lang))]
    return template.format(**values) if values else template


def _pick(table: dict[str, tuple[str, str]], value: Any, lang: str) -> str:
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    pair = table.get(text)
    return pair[style.LANGS.index(style.check_lang(lang))] if pair else text


def status_name(status: Any, lang: str = "en") -> str:
    """A target's status (``met``, ``no reading``, ...) in ``lang``."""
    return _pick(STATUS, status, lang)


def method_name(method: Any, lang: str = "en") -> str:
    """A forecasting method of the backtest and scorecard (``linear_trend``, ...) in words of ``lang``."""
    return _pick(METHODS, method, lang)


def pillar_name(pillar: Any, lang: str = "en") -> str:
    """An investment pillar (``broadband``, ...) in words of ``lang``."""
    return _pick(PILLARS, pillar, lang)


def evidence_name(evidence: Any, lang: str = "en") -> str:
    """What a probability rests on (``own``, ``pooled``, ``prior``) in words of ``lang``."""
    return _pick(EVIDENCE, evidence, lang)


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


def value_text(value: Any, lang: str = "en") -> str:
    """A reading or target value as given (``%g``), with the language's decimal mark."""
    if value is None or pd.isna(value):
        return ""
    text = f"{float(value):g}"
    return text.replace(".", ",") if style.check_lang(lang) == "vi" else text
