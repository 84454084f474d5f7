"""Charts a report writer can hand over as they are (issue 14): readings at their month, no "observed" over
series without readings, GDP for the nation, text legible at 16 cm, languages in their own files, and `plot`
touching only what it redraws."""

from __future__ import annotations

import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from matplotlib import rc_context

from dxsim.cli import build_parser, main
from dxsim.outputs import style
from dxsim.outputs.charts import charts_dir, fan_chart, fan_stem, read_run, run_jobs
from dxsim.outputs.document_names import document_name
from dxsim.outputs.report_html import esc
from dxsim.pipeline import run_scenario, write_run

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
DRAWS = 200
SCENARIO = """name = "handover"
horizon = 2030
draws = 200
seed = 3
geos = ["lang_son", "long_an", "vietnam"]
"""


@pytest.fixture(scope="module")
def folder(inputs, tmp_path_factory):
    """A run of three geos with English charts drawn by `dxsim plot`."""
    base = tmp_path_factory.mktemp("handover")
    scenario = base / "handover.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    out = base / "handover"
    write_run(run_scenario(scenario, draws=DRAWS, inputs=inputs), out)
    assert main(["plot", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def tables(folder):
    return read_run(folder)


def _svg(tables, geo, ind, dfn, tmp_path, lang="en") -> ET.Element:
    path = tmp_path / f"{geo}-{ind}-{dfn}-{lang}.svg"
    with rc_context(style.rc()):
        fan_chart(tables, geo, ind, dfn, lang=lang).savefig(path, format="svg")
    return ET.parse(path).getroot()


def _texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{SVG}text")]


def _groups(root: ET.Element, prefix: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("id", "").startswith(prefix)]


def _year_of_x(root: ET.Element):
    """Pixel x -> decimal year, from the positions of the labelled year ticks of the SVG."""
    ticks = []
    for tick in _groups(root, "xtick_"):
        label = "".join(_texts(tick)).strip()
        use = next(tick.iter(f"{SVG}use"), None)
        if use is not None and re.fullmatch(r"\d{4}", label):
            ticks.append((float(use.get("x")), int(label)))
    (x0, y0), (x1, y1) = ticks[0], ticks[-1]
    return lambda x: y0 + (x - x0) * (y1 - y0) / (x1 - x0)


def test_a_march_reading_is_plotted_at_month_3(tables, tmp_path):
    obs = tables.observations
    march = obs[obs["period"].astype(str).str.endswith("-03")] if "period" in obs else obs.iloc[:0]
    assert len(march), "the shipped data have a March reading (Lạng Sơn's online dossiers, 2020-03)"
    row = march.iloc[0]
    root = _svg(tables, row["geo"], row["indicator"], row["definition"], tmp_path)
    year_of = _year_of_x(root)
    xs = [year_of(float(u.get("x"))) for g in _groups(root, "observations-") for u in g.iter(f"{SVG}use")]
    assert any(abs(x - (row["year"] + 3 / 12)) < 0.02 for x in xs), xs
    assert not any(abs(x - (row["year"] + 1)) < 0.05 for x in xs)          # not at its year's December value


def test_the_band_starts_at_or_before_every_reading(tables):
    """Trajectories start early enough that each reading lies inside its band's time span: Lạng Sơn's March-2020
    dossiers reading (19.26%) sat left of a band that began at 2020's December value."""
    import numpy as np

    tr, obs = tables.trajectories, tables.observations
    for (geo, ind, dfn), rows in obs.groupby(["geo", "indicator", "definition"]):
        mine = tr[(tr["geo"] == geo) & (tr["indicator"] == ind) & (tr["definition"] == dfn)]
        if len(mine):
            assert tables.year_x(ind, mine["year"]).min() <= tables.reading_x(rows).min(), (geo, ind, dfn)
    row = obs[(obs["geo"] == "lang_son") & (obs["period"].astype(str) == "2020-03")].iloc[0]
    band = tr[(tr["geo"] == "lang_son") & (tr["indicator"] == row["indicator"])
              & (tr["definition"] == row["definition"])].sort_values("year")
    x = tables.year_x(row["indicator"], band["year"])
    at = tables.reading_x(obs.loc[[row.name]])[0]
    assert np.interp(at, x, band["q025"]) <= row["value"] <= np.interp(at, x, band["q975"])


def test_series_without_readings_say_so_and_never_say_observed(tables, tmp_path):
    obs = tables.observations
    has = set(zip(obs["geo"], obs["indicator"], obs["definition"], strict=True))
    from dxsim.outputs.chartkit import fan_chart_keys

    keys = fan_chart_keys(tables)
    without = [k for k in keys if k not in has]
    assert ("lang_son", "fiber_household_share", "coverage") in without
    for key in without[:4] + [k for k in keys if k in has][:2]:
        root = _svg(tables, *key, tmp_path)
        texts = " ".join(_texts(root))
        if key in has:
            assert "observed" in texts and "no reading" not in texts
        else:
            assert "observed" not in texts, key
            notes = " ".join(" ".join(_texts(g)) for g in _groups(root, "no-reading"))
            assert re.search(r"no reading: (pooled from \d+ provinces|prior mapping from \w)", notes), (key, notes)


def test_the_national_digital_economy_is_gdp_in_both_languages(tables, tmp_path):
    for lang, gdp in (("en", "% of GDP"), ("vi", "% GDP")):
        texts = " ".join(_texts(_svg(tables, "vietnam", "digital_economy_grdp_share", "mic_method", tmp_path, lang)))
        assert gdp in texts and "GRDP" not in texts
        province = " ".join(_texts(_svg(tables, "long_an", "digital_economy_grdp_share", "mic_method", tmp_path, lang)))
        assert "GRDP" in province


def test_every_chart_is_legible_at_16_cm(folder):
    """Every SVG: text at least 7 pt when the chart is printed 16 cm wide."""
    svgs = sorted((folder / "charts").glob("*.svg"))
    assert len(svgs) > 10
    for path in svgs:
        root = ET.parse(path).getroot()
        width_pt = float(root.get("width").removesuffix("pt"))
        scale = (16 / 2.54 * 72) / width_pt
        sizes = [float(m) for m in re.findall(r"font-size: ([\d.]+)px", path.read_text(encoding="utf-8"))]
        assert sizes and min(sizes) * scale >= 6.99, (path.name, min(sizes) * scale)


def test_plot_in_vietnamese_then_english_leaves_both_sets_complete(folder, tmp_path):
    work = tmp_path / "run"
    shutil.copytree(folder, work)
    assert main(["plot", str(work), "--lang", "vi"]) == 0
    assert main(["plot", str(work)]) == 0
    stems = [job.stem for job in run_jobs(read_run(work))]
    for lang in ("en", "vi"):
        for stem in stems:
            for fmt in ("png", "svg"):
                assert (charts_dir(work, lang) / f"{stem}.{fmt}").is_file(), (lang, stem, fmt)
    vi = " ".join(_texts(ET.parse(charts_dir(work, "vi") / "overview.svg").getroot()))
    en = " ".join(_texts(ET.parse(charts_dir(work, "en") / "overview.svg").getroot()))
    assert "Trung vị" in vi and "Median" not in vi and "Median" in en


def test_plot_one_geo_in_one_format_leaves_every_other_file_byte_identical(folder, tmp_path, capsys):
    work = tmp_path / "run"
    shutil.copytree(folder, work)
    (work / "report.html").write_text("<p>a report a writer edited</p>", encoding="utf-8")
    redrawn = set((work / "charts").glob("fan_lang_son_*.png"))
    for path in redrawn:                       # edited by hand: drawn again (unchanged charts are kept as they are)
        path.write_bytes(b"edited")
    before = {p: p.read_bytes() for p in work.rglob("*") if p.is_file()}
    assert main(["plot", str(work), "--geo", "lang_son", "--format", "png"]) == 0
    out = capsys.readouterr().out
    assert redrawn and f"wrote {len(redrawn)} files" in out
    for path, data in before.items():
        if path not in redrawn:
            assert path.read_bytes() == data, path
    assert {p for p in work.rglob("*") if p.is_file()} == set(before)          # nothing added, nothing removed


def test_plot_out_writes_only_there(folder, tmp_path):
    work = tmp_path / "run"
    shutil.copytree(folder, work)
    before = {p: p.read_bytes() for p in work.rglob("*") if p.is_file()}
    out = tmp_path / "elsewhere"
    assert main(["plot", str(work), "--geo", "vietnam", "--format", "svg", "--out", str(out)]) == 0
    assert (out / f"{fan_stem('vietnam', 'fiber_household_share', 'subscription')}.svg").is_file()
    assert {p: p.read_bytes() for p in work.rglob("*") if p.is_file()} == before


def test_help_texts_print_percent_signs_once():
    parser = build_parser()
    helps = [parser.format_help()]
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    helps += [p.format_help() for p in sub.choices.values()]
    assert all("%%" not in h for h in helps)
    assert any("80% bands" in h for h in helps)


def test_charts_dir_keeps_languages_apart(tmp_path):
    assert charts_dir(tmp_path, "en") == tmp_path / "charts"
    assert charts_dir(tmp_path, "vi") == tmp_path / "charts" / "vi"
    assert Path(charts_dir(tmp_path, "vi")).parent == charts_dir(tmp_path, "en")


# ----------------------------------------------------------------------------------------------- the report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
VI_FORBIDDEN = ("Brief", "Headline numbers", "Targets", "Caveats", "Latest reading", "Overview", "summary",
                "forecasts", "scenario assumptions", "data sources", "Indicator", "Definition", "Deadline",
                "Document", "Geo", "Median", "Year", "Fit", "Pooling", "Investment", "Pillar", "Schedule", "Where",
                "Status", "Evidence", "Reading", "Readings", "Source", "Quote", "Value", "Likelihood", "Config",
                "Observations", "as run", "geo", "indicator", "pooled", "observed", "P(met)", "Probability")
VI_FORBIDDEN_CELLS = ("own", "pooled", "prior", "yes", "no", "met", "missed", "no reading", "not due", "nan",
                      "True", "False", "not evaluable", "all geos")


class _Text(__import__("html.parser").parser.HTMLParser):
    """Headings (h1-h4, th, summary) and all text of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.headings: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag):]

    def handle_data(self, data):
        self.text.append(data)
        if self.stack and self.stack[-1] in ("h1", "h2", "h3", "h4", "th", "summary", "title"):
            self.headings.append(data.strip())


def _parse(path: Path) -> _Text:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _cells(path: Path) -> list[str]:
    html = path.read_text(encoding="utf-8")
    return [__import__("html").unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", html, flags=re.S)]


VI_FORBIDDEN_EXTRA = ("Track record", "Origin", "Method", "Targets", "Later readings", "Inside 80%", "Outcome",
                      "P(met) given", "Median [80%] given", "Date", "Inside", "What it would take",
                      "What moves the targets", "Output", "At the scenario", "Largest factors", "Answer", "Series",
                      "P in the scenario", "same targets", "same readings")


def _policy_and_track_folders(base: Path, run: Path) -> list[Path]:
    """SYNTHETIC folders made here (not data, not a real analysis): a scorecard, a sensitivity and a
    required-investment folder with a few rows each, in the files' real columns, for the report's words."""
    import json

    import pandas as pd

    from dxsim.analyses.scorecard import SCORECARD_COLUMNS

    card, sens, req = base / "card", base / "sens", base / "req"
    for f in (card, sens, req):
        f.mkdir()
    doc = str(pd.read_csv(run / "target_probabilities.csv")["document"].iloc[0])
    common = {"origin": 2023, "geo": "vietnam", "indicator": "fiber_household_share", "definition": "subscription",
              "period": "2024-12", "horizon": 1, "comparator": ">=", "document": doc, "value": 79.4, "median": 80.25,
              "lo80": 77.5, "hi80": 83.75, "source_url": "https://example.test/x", "row": 1}
    rows = [{**common, "kind": "target", "method": m, "year": 2025, "target": 85.0, "probability": 0.125,
             "outcome": 0.0, "brier": 0.015625, "held": ""} for m in ("dxsim", "last_value")]
    rows += [{**common, "kind": "reading", "method": m, "year": 2024, "target": "", "probability": "", "outcome": "",
              "brier": "", "held": held} for m, held in (("dxsim", True), ("linear_trend", False))]
    pd.DataFrame(rows, columns=list(SCORECARD_COLUMNS)).to_csv(card / "scorecard.csv", index=False)
    pd.DataFrame({"output": ["vietnam fibre 2030"] * 4, "factor": ["invest_broadband", "speed"] * 2,
                  "index": ["ST", "ST", "S1", "S1"], "value": [0.7, 0.1, 0.5, 0.05], "conf": [0.2, 0.05, 0.1, 0.02],
                  "ci_low": [0.5, 0.05, 0.4, 0.03], "ci_high": [0.9, 0.2, 0.6, 0.07]}
                 ).to_csv(sens / "sensitivity.csv", index=False)
    pd.DataFrame({"output": ["vietnam fibre 2030"], "kind": ["median"], "at_scenario": [0.375], "analysed": [True]}
                 ).to_csv(sens / "sensitivity_outputs.csv", index=False)
    (sens / "factors.toml").write_text('[[factors]]\nname = "invest_broadband"\nkind = "investment"\n'
                                       'pillar = "broadband"\ngeo = "*"\nrange = [0.5, 2.0]\n', encoding="utf-8")
    (sens / "manifest.json").write_text(json.dumps({"method": "sobol", "evaluations": 64, "draws": 50,
                                                    "scenario": {"name": "handover"}}), encoding="utf-8")
    pd.DataFrame([{"scenario": "handover", "geo": "lang_son", "indicator": "digital_economy_grdp_share",
                   "definition": "mic_method", "pillar": "digital_economy", "deadline": 2030, "comparator": ">=",
                   "target": 25.0, "document": doc, "probability_requested": 0.8, "status": "found", "multiple": 2.5,
                   "probability": 0.8125, "probability_at_baseline": 0.375, "max_multiple": 10.0,
                   "spend_bn_vnd_per_year": 1250.0, "scenario_multiple": 1.0, "answer": "multiple 2.50: P = 0.81"}]
                 ).to_csv(req / "required_investment.csv", index=False)
    pd.DataFrame({"output": "P(met) lang_son digital_economy_grdp_share/mic_method 2030 >=25", "geo": "lang_son",
                  "pillar": "digital_economy", "multiple": [0.25, 1.0, 2.5, 10.0],
                  "probability": [0.125, 0.375, 0.8125, 0.9375]}).to_csv(req / "required_investment_curves.csv",
                                                                         index=False)
    return [card, sens, req]


def test_report_in_vietnamese_has_no_english_heading_and_uses_decimal_commas(folder, tmp_path):
    work = tmp_path / "run"
    shutil.copytree(folder, work)
    english = (work / "charts" / "overview.svg").read_bytes()
    extra = _policy_and_track_folders(tmp_path, work)
    assert main(["report", str(work), *map(str, extra), "--lang", "vi"]) == 0
    out = work / "report.vi.html"                    # each language in its own file: report.html is not touched
    assert out.is_file() and not (work / "report.html").exists()
    assert (work / "charts" / "overview.svg").read_bytes() == english       # English charts untouched
    assert (work / "charts" / "vi" / "overview.svg").is_file()              # Vietnamese ones drawn beside them
    page = _parse(out)
    words = {w for h in page.headings for w in re.split(r"[:()\[\],]\s*|\s+(?=\()", h)}
    for english in VI_FORBIDDEN + VI_FORBIDDEN_EXTRA:
        assert not any(re.search(rf"\b{re.escape(english)}\b", h) for h in page.headings), english
    assert "Tóm tắt" in page.headings and words
    html = out.read_text(encoding="utf-8")        # the track-record and both policy sections are there, in Vietnamese
    for section, title in (("track-record-0", "Kết quả dự báo trong quá khứ"), ("policy-0", "Yếu tố tác động"),
                           ("policy-1", "Cần đầu tư bao nhiêu")):
        assert f'id="{section}"' in html and title in html, section
    assert "0,70 [0,50; 0,90]" in html and "bội số 2,50" in html and "xu hướng tuyến tính" in html
    policy = html.split('<section id="policy-0">')[1].split("</section>")[0]
    assert "đầu tư cho hạ tầng băng rộng 0,70" in policy and "invest_broadband" not in policy   # factors in words
    assert "speed 0,10" in policy                       # a factor factors.toml does not describe: its name
    required = html.split('<section id="policy-1">')[1].split("</section>")[0]
    doc = str(__import__("pandas").read_csv(work / "target_probabilities.csv")["document"].iloc[0])
    assert "Văn bản" in required and esc(document_name(doc, "vi")) in required       # each target's document
    for section in ("track-record-0", "policy-0", "policy-1"):      # each with its chart, drawn in Vietnamese
        part = html.split(f'<section id="{section}">')[1].split("</section>")[0]
        assert "data:image/png" in part and "không có biểu đồ" not in part, section
    cells = _cells(out)
    for english in VI_FORBIDDEN_CELLS:
        assert english not in cells, english
    assert not [c for c in cells if re.fullmatch(r"[\d ±.\[\]–%<>≥≤]*\d\.\d[\d ±.\[\]–%]*", c)]    # numbers: 0,560
    brief = out.read_text(encoding="utf-8").split('id="brief"')[1].split('<section id="')[0]
    assert re.search(r"\d+,\d [\[(]", brief) and not re.search(r"\d+\.\d [\[(]", brief)      # 94,0 [92,6–94,8]
    # the charts embedded are Vietnamese ones, drawn for the report (the folder has English charts only)
    svgs = re.findall(r'data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)', out.read_text(encoding="utf-8"))
    texts = [__import__("base64").b64decode(s).decode("utf-8") for s in svgs]
    assert texts and all("Median" not in t for t in texts) and any("Trung vị" in t for t in texts)


def test_scorecard_and_policy_charts_speak_the_report_language(folder, tmp_path, monkeypatch):
    """scorecard.png, sensitivity_*.png and required_investment_*.png drawn in Vietnamese (as SVG here, to read
    their text): Vietnamese words, decimal commas, none of the English chart words."""
    import pandas as pd

    from dxsim.outputs import policycharts
    from dxsim.outputs.scorecardchart import plot_scorecard

    card, sens, req = _policy_and_track_folders(tmp_path, folder)
    texts: list[str] = []

    def save_svg(fig, path):
        fig.savefig(path.with_suffix(".svg"), format="svg")
        texts.append(" ".join(_texts(ET.parse(path.with_suffix(".svg")).getroot())))

    monkeypatch.setattr(policycharts, "_save", save_svg)
    table = pd.read_csv(card / "scorecard.csv", keep_default_na=False, na_values=[""])
    with rc_context(style.rc()):
        plot_scorecard(table, tmp_path / "card.svg", "vi")
    texts.append(" ".join(_texts(ET.parse(tmp_path / "card.svg").getroot())))
    policycharts.sensitivity_charts_of(pd.read_csv(sens / "sensitivity.csv"),
                                       pd.read_csv(sens / "sensitivity_outputs.csv"), "sobol", 64, tmp_path, "vi")
    policycharts.required_investment_charts(pd.read_csv(req / "required_investment_curves.csv"),
                                            pd.read_csv(req / "required_investment.csv"), 0.8, tmp_path, "vi")
    assert len(texts) == 3
    for text, vietnamese in zip(texts, ("gốc 2023", "chỉ số toàn phần ST", "bội số đầu tư"), strict=True):
        assert vietnamese in text, text
        for english in ("origin", "outcome", "nominal", "Later readings", "total index", "confidence", "scenario",
                        "investment", "P(target met)", "Brier 0.", "Households", "last value"):
            assert english not in text, (english, text)
        assert not re.search(r"(?<![\d.])\d\.\d", text.replace("0.1.0", "")), text      # decimal commas


def test_report_opens_with_a_brief_per_geo(folder, tmp_path):
    out = tmp_path / "report.html"
    assert main(["report", str(folder), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.index('<section id="brief">') < text.index('<section id="handover-summary">')
    assert text.count('class="brief-geo"') == 3
    for heading in ("Headline numbers (percent)", "Targets", "Caveats", "Latest reading",
                    "2030: median [80% interval]"):
        assert heading in text
    assert "no reading: pooled from" in text                     # Lạng Sơn's fibre coverage rests on no reading
    assert ">nan<" not in text and "NaN" not in text and ">True<" not in text and ">False<" not in text


def _pdf(html_path: Path, pdf: Path) -> tuple[int, str]:
    import subprocess

    from pypdf import PdfReader

    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    f"--print-to-pdf={pdf}", "--no-pdf-header-footer", html_path.resolve().as_uri()],
                   check=True, capture_output=True, timeout=180)
    reader = PdfReader(pdf)
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    return len(reader.pages), __import__("unicodedata").normalize("NFKC", text)       # 'ﬁ' ligatures -> 'fi'



def _printed_headers(path: Path) -> list[str]:
    """Column headers of every table that prints (tables inside a closed <details> do not)."""
    html = re.sub(r"<details>.*?</details>", "", path.read_text(encoding="utf-8"), flags=re.S)
    headers = []
    for head in re.findall(r"<thead>(.*?)</thead>", html, flags=re.S):
        headers += [__import__("html").unescape(re.sub(r"<[^>]+>", "", h)).strip()
                    for h in re.findall(r"<th>(.*?)</th>", head, flags=re.S)]
    return [h for h in headers if h]


def _skip_without_chromium() -> None:
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() == "true":           # CI must run this test, never skip it
            pytest.fail("chromium is not installed (CI=true: the browser test may not be skipped)")
        pytest.skip("headless Chromium is not installed (.ci/run installs it)")


def _brief_pages(report: Path, tmp_path: Path) -> int:
    """Printed pages of the report's opening (title, contents and the brief) alone."""
    page = report.read_text(encoding="utf-8")
    start = page.index('<section id="brief">')
    end = page.index('<section id="', start + 5)
    brief = tmp_path / f"brief-{report.name}"
    brief.write_text(page[:end] + "</body></html>\n", encoding="utf-8")
    return _pdf(brief, tmp_path / f"{brief.name}.pdf")[0]


@pytest.fixture(scope="module")
def baseline(baseline_charts, tmp_path_factory):
    """The shipped baseline (both maps, 9 geos) with its English charts (a copy of the session's), reported in
    both languages."""
    _skip_without_chromium()
    run = tmp_path_factory.mktemp("print") / "baseline"
    shutil.copytree(baseline_charts, run)
    for lang in style.LANGS:
        assert main(["report", str(run), "--lang", lang]) == 0
    return run


@pytest.mark.parametrize("lang", style.LANGS)
def test_report_prints_to_a4_within_its_page_bounds_and_clips_no_table(baseline, lang, tmp_path):
    """The full report of one scenario prints in at most 25 A4 pages in either language, and every column header
    of every printed table is in the PDF's text."""
    assert len(read_run(baseline).geos) == 9           # the shipped baseline: both maps (scenarios/baseline.toml)
    out = baseline / ("report.html" if lang == "en" else f"report.{lang}.html")
    html = out.read_text(encoding="utf-8")      # the pre-2025 map's brief and charts collapse (do not print)
    old_map = "Provinces on the pre-2025 map (4: " if lang == "en" else "Tỉnh theo bản đồ trước 2025 (4: "
    assert html.count(f"<details><summary>{old_map}") == 2
    pages, text = _pdf(out, tmp_path / "report.pdf")
    assert pages <= 25, pages
    assert _brief_pages(out, tmp_path) <= 6          # the new map's provinces and the nation
    squeezed = text.replace(" ", "")
    headers = _printed_headers(out)
    assert len(headers) > 20
    for header in headers:
        assert header.replace(" ", "") in squeezed, header


@pytest.fixture(scope="module")
def seed_run(inputs, tmp_path_factory):
    """A run of the four seed provinces (pre-2025 map) and Vietnam, for both languages' reports."""
    _skip_without_chromium()
    folder = tmp_path_factory.mktemp("seed")
    scenario = folder / "seed.toml"
    scenario.write_text('name = "seed"\nhorizon = 2030\ndraws = 200\nseed = 5\n'
                        'geos = ["long_an", "lang_son", "hau_giang", "tra_vinh", "vietnam"]\n', encoding="utf-8")
    run = folder / "seed"
    write_run(run_scenario(scenario, draws=DRAWS, inputs=inputs), run)
    return run


@pytest.mark.parametrize("lang", style.LANGS)
def test_brief_of_the_four_seed_provinces_and_vietnam_prints_in_six_pages(seed_run, lang, tmp_path):
    out = tmp_path / "seed.html"
    assert main(["report", str(seed_run), "--lang", lang, "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.count('class="brief-geo"') == 5 and "<details><summary>" not in html.split('id="brief"')[1].split(
        "<section")[0]                         # a run of old provinces only: their brief pages are not collapsed
    assert _brief_pages(out, tmp_path) <= 6
