"""report.html escapes every text that reaches it: markup, '&', quotes and ``javascript:`` URLs in an observation's
quote and source URL, a target's document and URL, the scenario description, an event name,
the results folder's name and the scenario name all come out as text, never as markup or links.

The hostile texts are SYNTHETIC, written into copies of the shipped inputs made here.
"""

from __future__ import annotations

import html.parser
import shutil

import pandas as pd
import pytest

from dxsim.cli import main
from dxsim.pipeline import load_inputs, run_scenario, write_run

HOSTILE = {   # where -> text; each is distinct so its (decoded) presence in the page can be asserted
    "quote": 'a quote <img src=x onerror="alert(1)"> & "more"',
    "url_js": "javascript:alert('url')",
    "url_attr": 'https://example.org/q?a=1&b=2" onmouseover="alert(2)',
    "document": 'Plan <script>alert("doc")</script> & "annex"',
    "target_url": "javascript:alert('target')",
    "description": 'Desc <script>alert("desc")</script> & <i>x</i> "q"',
    "event": 'Event <b onclick="alert(3)">mandate</b> & co',
    "scenario": 'hostile<script>alert("name")</script>&"',
}
FOLDER = 'run <b>&"x'
SCENARIO = """name = "hostile"
description = {description}
horizon = 2030
draws = 200
seed = 3
geos = ["lang_son", "vietnam"]

[[events]]
name = {event}
indicator = "online_dossier_share"
year = 2026
speed_multiplier = 1.2
"""


class _Page(html.parser.HTMLParser):
    """Tags with their attributes, and the decoded text (entities converted, as a browser shows it)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="module")
def page(root, inputs, tmp_path_factory):
    """A real run on hostile copies of the inputs, its report, and the report parsed."""
    tmp = tmp_path_factory.mktemp("hostile")
    cal = tmp / "calibration"
    shutil.copytree(root / "calibration", cal)
    obs = pd.read_csv(cal / "observations.csv", dtype=str, keep_default_na=False)
    used = inputs.observations["status"].to_numpy() == "used"            # rows in the file's order
    mine = obs.index[(obs["geo"] == "lang_son").to_numpy() & used]
    obs.loc[mine[0], "quote"] = HOSTILE["quote"]
    obs.loc[mine[0], "source_url"] = HOSTILE["url_js"]
    obs.loc[mine[1], "source_url"] = HOSTILE["url_attr"]
    obs.to_csv(cal / "observations.csv", index=False)
    tg = pd.read_csv(cal / "targets.csv", dtype=str, keep_default_na=False)
    mine = tg.index[tg["geo"] == "lang_son"]
    tg.loc[mine[0], "document"] = HOSTILE["document"]
    tg.loc[mine[0], "source_url"] = HOSTILE["target_url"]
    tg.to_csv(cal / "targets.csv", index=False)
    scenario = tmp / "hostile.toml"
    scenario.write_text(SCENARIO.format(description=_toml_string(HOSTILE["description"]),
                                        event=_toml_string(HOSTILE["event"])), encoding="utf-8")
    folder = tmp / FOLDER
    write_run(run_scenario(scenario, inputs=load_inputs(cal / "config.toml")), folder)
    for name in ("trajectories.csv", "target_probabilities.csv"):    # a tampered scenario name
        frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        frame["scenario"] = HOSTILE["scenario"]
        frame.to_csv(folder / name, index=False)
    assert main(["report", str(folder)]) == 0
    raw = (folder / "report.html").read_text(encoding="utf-8")
    parsed = _Page()
    parsed.feed(raw)
    return raw, parsed


def test_hostile_texts_are_shown_as_text(page):
    _, parsed = page
    shown = "".join(parsed.text)
    for where, text in HOSTILE.items():
        if where != "url_attr":         # a long URL is shown by its site name; its href is checked below
            assert text in shown, where


def test_hostile_texts_make_no_markup_and_no_script_links(page):
    raw, parsed = page
    tags = {tag for tag, _ in parsed.tags}
    assert not tags & {"script", "b", "i", "iframe"}
    assert [a for tag, a in parsed.tags if tag == "img" and not a.get("src", "").startswith("data:image/")] == []
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("href", "src"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "vbscript:")), (tag, attrs)
    hrefs = [a["href"] for tag, a in parsed.tags if tag == "a" and "example.org" in (a.get("href") or "")]
    assert hrefs == [HOSTILE["url_attr"]]          # the quote inside the URL stays inside the attribute
    assert "<script>" not in raw and "&lt;script&gt;" in raw and "&amp;" in raw
