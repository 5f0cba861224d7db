"""The app (``saca app``): its model wrapper, figures, assets, command, and the page itself
driven in headless Chromium.

The browser test starts ``saca app`` on a free localhost port, opens it in the system's
Chromium through Playwright, fails on any HTTP error (a 404 means a front-end file is
missing: DESIGN §5, "The app offline"), moves a dial, resets and steps the model, checks
that the figures and a metric changed, times the steps, and saves a screenshot and the
timings under ``results/test-artifacts/`` (or ``$SACA_TEST_ARTIFACTS``). Without Chromium,
npm or Playwright it is skipped, except in CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from mesa.visualization import solara_viz
from PIL import Image

from saca.experiments.app import assets as app_assets
from saca.experiments.app.controls import pending_changes, slider_step, tooltip
from saca.experiments.app.replicates import run_replicates
from saca.experiments.app.state import (
    INFO,
    REGIME_KEYS,
    AppModel,
    current_metrics,
    edits,
    metrics_html,
    parse_query,
    regime_values,
    run_command,
    run_json,
    session_model,
    state_query,
    timeseries_csv,
)
from saca.experiments.cli.main import main
from saca.experiments.engine.seeds import run_seed
from saca.experiments.plots.live import NetworkPlot, SeriesPlot, network_figure, rolling

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("SACA_TEST_ARTIFACTS", ROOT / "results" / "test-artifacts"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# ----- the model the app drives --------------------------------------------------------
def test_app_model_takes_preset_values_and_overrides():
    m = AppModel(preset="autonomous", seed=3, information=0.2, task_force=True)
    assert m.regime.information == 0.2
    assert m.regime.task_force is True
    assert m.regime.control == regime_values("autonomous")["control"]
    assert (m.scenario_name, m.preset, m.seed) == ("emergency", "autonomous", 3)


def test_app_model_matches_saca_run_with_the_same_seed():
    from saca.experiments.engine import runner

    a = AppModel(preset="constructive", seed=5)
    a.run_for(5)
    _, b = runner.run_one("emergency", "constructive", 5, steps=5)
    assert a.timeseries().equals(b)
    assert len(a.step_seconds) == 5


def test_app_model_stops_at_the_end_of_the_timeline():
    from saca.experiments.app.state import status_line

    m = AppModel(scenario_name="baseline")
    days = m.situation.days
    assert not m.finished and not status_line(m).startswith("Finished")
    m.run_for(days)
    assert m.steps == days and not m.running and m.finished
    assert len(m.timeseries()) == days
    assert status_line(m).startswith(f"Finished · Day {days} of {days}")


def test_inputs_come_from_the_declarations():
    from saca.model.parameters import describe
    from saca.model.regime import Regime

    assert tuple(i.key.split(".")[1] for i in describe("regime", Regime)) == REGIME_KEYS
    visits = INFO["mandated_visits_per_week"]
    assert (visits.lo, visits.hi) == (0.0, 14.0)
    assert slider_step(visits) == 0.5 and slider_step(INFO["information"]) == 0.05
    tip = tooltip(visits)
    assert "range 0 to 14" in tip and "source: seed 001" in tip and visits.meaning in tip
    assert "0 = constructive, 1 = autonomous" in tooltip(INFO["information"])
    assert "one of none, points, satisfaction, multi" in tooltip(INFO["evaluation"])


def test_pending_changes_name_what_reset_will_apply():
    m = AppModel(scenario_name="baseline")
    assert pending_changes(m.settings, m.settings) == []
    changed = pending_changes({**m.settings, "information": 0.3, "seed": 9}, m.settings)
    assert changed == ["seed 42 → 9", "information 0.5 → 0.3"]


def test_the_address_round_trips_and_rejects_bad_values():
    m = AppModel(scenario_name="baseline", preset="autonomous", seed=7, information=0.3)
    m2 = AppModel(scenario_name="baseline", preset="autonomous", seed=7, escalation="central")
    for model in (m, m2):
        settings, problems = parse_query(state_query(model.settings))
        assert settings == model.settings and problems == []
    assert "information=0.3" in state_query(m.settings)
    assert "contract" not in state_query(m.settings)  # only edits away from the preset
    settings, problems = parse_query("seed=-1&information=2&nope=1&preset=zzz")
    assert settings["seed"] == 42 and settings["information"] == 0.5
    assert len(problems) == 4
    assert parse_query(None) == parse_query("")


def test_the_shown_command_reproduces_the_run(tmp_path):
    import shlex

    import pandas as pd

    m = AppModel(preset="constructive", seed=11, information=0.25, task_force=True)
    m.run_for(6)
    cmd = run_command(m.settings, m.steps, out=str(tmp_path / "out"))
    assert "--set regime.information=0.25" in cmd and "--set regime.task_force=true" in cmd
    assert main(shlex.split(cmd)[1:]) == 0
    ours = pd.read_csv(io.StringIO(timeseries_csv(m)))
    theirs = pd.read_parquet(tmp_path / "out" / "timeseries.parquet")
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)
    meta = json.loads(run_json(m))
    assert meta["command"].startswith("saca run --scenario emergency --regime constructive")
    assert meta["overrides"] == {"regime.information": 0.25, "regime.task_force": True}
    assert set(meta["summary"]) >= {"all", "normal"}


def test_replicates_run_on_the_sweep_engine_paired():

    settings = AppModel(scenario_name="baseline", preset="hybrid", seed=3, contract=1.0).settings
    seen = []
    res = run_replicates(settings, "hybrid", 2, lambda d, t: seen.append((d, t)))
    assert res["labels"] == ("hybrid (modified)", "hybrid")
    assert seen[-1] == (4, 4)
    ts = res["timeseries"]
    assert set(ts["regime"]) == {"hybrid (modified)", "hybrid"}
    # replicate r of either regime has SeedSequence(seed, spawn_key=(0, r)): one run of
    # the plain preset with that seed gives the same series
    from saca.experiments.engine import runner

    _, plain = runner.run_one("baseline", "hybrid", run_seed(3, (0, 1)))
    got = ts[(ts["regime"] == "hybrid") & (ts["replicate"] == 1)]
    np.testing.assert_allclose(got["efficacy"].to_numpy(), plain["efficacy"].to_numpy())
    d = res["stats"]["differences"]["hybrid (modified)"]["efficacy"]
    assert d["n"] == 2 and np.isfinite(d["diff"])


def test_a_session_model_keeps_what_reset_does_not_pass():
    cls = session_model()
    first = cls(scenario_name="baseline", preset="autonomous", seed=5)
    # Mesa's Reset: type(model)(**kwargs) with only the inputs the user changed
    kwargs = solara_viz._build_model_init_kwargs(
        first, {"contract": 0.0}, add_scenario_when_empty=True, require_model_accepts_scenario=True
    )
    second = type(first)(**kwargs)
    assert (second.scenario_name, second.preset, second.seed) == ("baseline", "autonomous", 5)
    assert second.regime.contract == 0.0
    assert second.regime.information == regime_values("autonomous")["information"]
    assert edits(second.settings) == {"contract": 0.0}
    third = cls(information=0.3)  # the change to contract is kept too
    assert (third.regime.contract, third.regime.information) == (0.0, 0.3)
    fourth = cls(preset="constructive")  # a new preset starts from its own values
    assert fourth.settings == {
        "scenario_name": "baseline",
        "preset": "constructive",
        "seed": 5,
        **regime_values("constructive"),
    }
    assert session_model().remembered == {}  # each session starts afresh
    assert AppModel.remembered is None
    assert AppModel().seed == 42


def test_metrics_table_has_every_row_and_dashes_before_the_first_step():
    m = AppModel(scenario_name="baseline")
    html = metrics_html([("value", m)])
    assert html.count("data-metric=") == len(current_metrics(m))
    assert "–" in html
    m.run_for(3)  # the 7-day efficacy waits for a week of days (EFFICACY_NOTE)
    assert np.isnan(current_metrics(m)["efficacy"])
    m.run_for(4)
    values = current_metrics(m)
    assert all(np.isfinite(v) for v in values.values())


# ----- figures ---------------------------------------------------------------------------
def test_rolling_mean_skips_missing_days():
    x = np.array([1.0, np.nan, 3.0, 5.0])
    np.testing.assert_allclose(rolling(x, 2), [1.0, 1.0, 3.0, 4.0])
    assert np.isnan(rolling(np.array([np.nan]), 3)[0])


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)


def _savefig(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_blitted_images_match_full_draws():
    m = AppModel(seed=1)
    series, net = SeriesPlot([("hybrid", "#1f77b4")], m.situation.timeline), NetworkPlot(m, 0)
    series.update([m])
    first_series = series.png()
    net.update()
    net.png()
    m.run_for(40)  # burnout rises: the axis limit changes and the background is redrawn
    series.update([m])
    net.update()
    blit_series, blit_net = series.png(), net.png()
    fresh_series = SeriesPlot([("hybrid", "#1f77b4")], m.situation.timeline)
    full_series = _savefig(fresh_series.update([m]))
    full_net = _savefig(network_figure(m, 0))
    assert np.abs(_pixels(blit_series) - _pixels(full_series)).mean() < 1.0
    assert np.abs(_pixels(blit_net) - _pixels(full_net)).mean() < 1.0
    assert np.abs(_pixels(first_series) - _pixels(blit_series)).mean() > 0.1  # it moved


def test_components_render_on_the_server():
    import solara

    from saca.experiments.app.page import Compare, Explore, Export, Page
    from saca.experiments.app.replicates import Replicates

    m = AppModel(scenario_name="baseline")
    m.run_for(2)
    ref = solara.reactive("autonomous")
    for element in (Explore(m), Compare(m, ref), Replicates(m, ref), Export(m), Page()):
        _box, rc = solara.render(element, handle_error=False)
        rc.close()


def test_compare_steps_the_reference_to_the_sidebars_day():
    from saca.experiments.app.page import reference_model

    m = AppModel(scenario_name="baseline", preset="hybrid", seed=4, goals=0.0)
    m.run_for(3)
    ref = reference_model(m, "constructive")
    assert (ref.steps, ref.seed, ref.preset, ref.edits) == (3, 4, "constructive", {})
    m.run_for(2)
    assert reference_model(m, "constructive") is ref and ref.steps == 5


# ----- assets and the command -------------------------------------------------------------
def test_required_packages_follow_solaras_page():
    pkgs = dict(app_assets.required_packages())
    assert {"requirejs", "font-awesome", "@widgetti/vue-grid-layout"} <= set(pkgs)
    import ipyvue

    vue3 = str(ipyvue.__version__).startswith("3")
    app = "@widgetti/solara-vuetify3-app" if vue3 else "@widgetti/solara-vuetify-app"
    assert app in pkgs


def _npm_tarball(path: Path, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_unpack_puts_the_package_where_solara_looks(tmp_path):
    archive = _npm_tarball(tmp_path / "x.tgz", {"dist/a.js": "ok", "package.json": "{}"})
    dest = tmp_path / "cdn" / "@scope" / "x@1.0.0"
    app_assets._unpack(archive, dest)
    assert (dest / "dist" / "a.js").read_text() == "ok"
    assert (dest / app_assets.DONE).exists()
    assert not [p for p in dest.parent.iterdir() if p.name.startswith(".saca-")]


def test_missing_lists_unfinished_packages(tmp_path):
    assert app_assets.missing(tmp_path) == app_assets.required_packages()
    name, version = app_assets.required_packages()[0]
    (tmp_path / f"{name}@{version}").mkdir(parents=True)  # no marker: incomplete
    assert (name, version) in app_assets.missing(tmp_path)


def test_ensure_assets_without_npm_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(app_assets.shutil, "which", lambda _: None)
    with pytest.raises(app_assets.AssetError, match="npm not found"):
        app_assets.ensure_assets(tmp_path, quiet=True)


def test_server_command_runs_solara_on_the_app_file():
    cmd = app_assets.server_command("127.0.0.1", 8123)
    assert cmd[1:4] == ["-m", "solara", "run"]
    assert Path(cmd[4]) == ROOT / "experiments" / "app" / "page.py"
    assert cmd[cmd.index("--port") + 1] == "8123"
    assert app_assets.server_env()["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"


def test_cli_app_rejects_a_bad_port(capsys):
    assert main(["app", "--port", "70000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("saca: error: --port") and err.count("\n") == 1


def test_cli_app_setup_assets_only(monkeypatch, capsys):
    monkeypatch.setattr(app_assets, "ensure_assets", lambda: ["requirejs@2.3.6"])
    assert main(["app", "--setup-assets"]) == 0
    assert "unpacked requirejs@2.3.6" in capsys.readouterr().out


def test_cli_app_reports_asset_errors(monkeypatch, capsys):
    def fail():
        raise app_assets.AssetError("npm not found; install it")

    monkeypatch.setattr(app_assets, "ensure_assets", fail)
    assert main(["app", "--setup-assets"]) == 1
    assert capsys.readouterr().err == "saca: error: npm not found; install it\n"


# ----- the page in a browser ---------------------------------------------------------------
def _need(ok: bool, why: str) -> None:
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{why} (required in CI)")
        pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    """``saca app`` on a free port (the front end unpacked first, as on first start)."""
    _need(shutil.which("npm") is not None, "npm is needed to unpack the app's front end")
    app_assets.ensure_assets()
    port = _free_port()
    log = ARTIFACTS / "app-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "saca.experiments", "app", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,  # its own process group: teardown stops all of it
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"saca app did not start; see {log}:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server's process group (SIGTERM, then SIGKILL after 20 s)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_saca_app_becomes_the_server():
    """``saca app`` execs the server, so stopping its pid stops the server (a child would
    keep running, orphaned, after ``terminate()``)."""
    _need(shutil.which("npm") is not None, "npm is needed to unpack the app's front end")
    app_assets.ensure_assets()
    proc = subprocess.Popen(
        [sys.executable, "-m", "saca.experiments", "app", "--port", str(_free_port())],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while b"solara" not in Path(f"/proc/{proc.pid}/cmdline").read_bytes():
            assert proc.poll() is None, "saca app exited"
            assert time.monotonic() < deadline, "saca app did not exec the server"
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _metric(page, key: str, model: str = "value") -> str:
    return page.locator(f"td[data-metric='{key}'][data-model='{model}']").inner_text()


def _type(page, selector: str, text: str) -> None:
    """Type a value into an input field and commit it (Enter), as a user would."""
    field = page.locator(f"{selector} input")
    field.fill(text)
    field.press("Enter")


def _overlaps(page, selectors: list[str]) -> list[str]:
    """Pairs of the visible elements matched by ``selectors`` whose boxes overlap, and any
    element reaching past the viewport's right edge."""
    width = page.viewport_size["width"]
    boxes = []
    for sel in selectors:
        for i in range(page.locator(sel).count()):
            box = page.locator(sel).nth(i).bounding_box()
            if box and box["width"] > 0 and box["height"] > 0:
                boxes.append((f"{sel}[{i}]", box))
    bad = [
        f"{n} ends at x={b['x'] + b['width']:.0f} > {width}"
        for n, b in boxes
        if b["x"] + b["width"] > width + 1
    ]
    for i, (n1, a) in enumerate(boxes):
        for n2, b in boxes[i + 1 :]:
            dx = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
            dy = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
            if dx > 1 and dy > 1:
                bad.append(f"{n1} overlaps {n2}")
    return bad


EXPLORE_PARTS = [
    ".v-navigation-drawer",
    ".saca-status",
    ".saca-regime",
    "img.saca-series",
    ".saca-note",
    "table.saca-metrics",
    "img.saca-network",
]
COMPARE_PARTS = [
    ".v-navigation-drawer",
    ".saca-compare-status",
    ".saca-compare-day",
    "img.saca-pair-series",
    "table.saca-metrics",
    "img.saca-pair-network",
]


@pytest.mark.timeout(420)
def test_app_in_headless_chromium(app_url, tmp_path):
    """A researcher's session: type a dial and a seed, Reset, step (timed), check the
    layout, export the CSV and reproduce it with the shown command, compare with a preset
    while the sidebar drives, run 3 seeds, and reopen the shared address."""
    import shlex

    import pandas as pd

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    _need(chromium is not None, "chromium is not installed (Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "playwright is not installed (pip install -e '.[dev]')")
    errors: list[str] = []

    def watch(page) -> None:
        page.set_default_timeout(60_000)
        page.on(
            "response",
            lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        page.on("requestfailed", lambda r: errors.append(f"failed {r.url}"))
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        page.on(
            "console",
            lambda m: errors.append(f"console error: {m.text}") if m.type == "error" else None,
        )

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720}, accept_downloads=True)
            watch(page)
            page.goto(app_url)
            status = page.locator(".saca-status")
            status.filter(has_text="Day 0 of 180").wait_for()
            assert page.title() == "saca: constructive vs autonomous collaboration"
            assert [t.strip() for t in page.get_by_role("tab").all_inner_texts()] == [
                "EXPLORE",
                "COMPARE",
                "REPLICATES",
                "EXPORT",
            ]
            assert _metric(page, "efficacy") == "–"
            assert page.get_by_text("runs on Solara").count() == 0  # the badge is off
            series0 = page.locator("img.saca-series").get_attribute("src")

            # Ranges and tooltips come from the declarations.
            visits = page.get_by_role("slider", name="mandated visits per week")
            assert visits.get_attribute("aria-valuemax") == "14"
            page.locator(".saca-tip-mandated_visits_per_week").hover()
            page.get_by_text("range 0 to 14; source: seed 001").wait_for()

            # A typed value shows as pending until Reset applies it; so does the seed.
            _type(page, ".saca-number-information", "0.3")
            page.locator(".saca-pending").filter(has_text="information 0.5 → 0.3").wait_for()
            dial = page.get_by_role("slider", name="information")
            assert dial.get_attribute("aria-valuenow") == "0.3"
            _type(page, ".saca-seed", "7")
            page.locator(".saca-pending").filter(has_text="seed 42 → 7").wait_for()
            page.get_by_role("button", name="Reset", exact=True).click()
            page.locator(".saca-regime").filter(has_text="information 0.30").wait_for()
            status.filter(has_text="seed 7").filter(has_text="hybrid (modified)").wait_for()
            page.locator(".saca-pending").wait_for(state="detached", timeout=10_000)

            # Step, timing each round trip (click -> the page shows the new day).
            step = page.get_by_role("button", name="Step", exact=True)
            times = []
            for day in range(1, 9):
                t0 = time.perf_counter()
                step.click()
                status.filter(has_text=f"Day {day} of 180").wait_for()
                times.append(time.perf_counter() - t0)
            page.wait_for_timeout(500)
            assert _metric(page, "efficacy") != "–"  # day 8: the 7-day mean is defined
            assert page.locator("img.saca-series").get_attribute("src") != series0
            server_ms = page.locator(".saca-steptime").inner_text()
            draw_ms = page.locator(".saca-drawtime").inner_text()
            assert "information=0.3" in page.url and "seed=7" in page.url
            overlaps = _overlaps(page, EXPLORE_PARTS)
            page.screenshot(path=str(ARTIFACTS / "app.png"))
            assert not overlaps, overlaps
            assert page.locator("img.saca-series").bounding_box()["y"] < 400  # above the fold

            # Export: the CSV equals `saca run` with the command shown.
            page.get_by_role("tab", name="Export").click()
            cmd = page.locator(".saca-command").inner_text().strip()
            assert cmd.startswith("saca run --scenario emergency --regime hybrid --seed 7")
            assert "--steps 8" in cmd and "--set regime.information=0.3" in cmd
            with page.expect_download() as dl:
                page.get_by_role("button", name="Time series (CSV)").click()
            csv = tmp_path / "app.csv"
            dl.value.save_as(csv)
            words = shlex.split(cmd)
            words[words.index("--out") + 1] = str(tmp_path / "run")
            assert main(words[1:]) == 0
            pd.testing.assert_frame_equal(
                pd.read_csv(csv),
                pd.read_parquet(tmp_path / "run" / "timeseries.parquet"),
                check_dtype=False,
            )

            # Compare: the sidebar's edited regime against a preset; the sidebar drives it.
            page.get_by_role("tab", name="Compare").click()
            mine = "hybrid (modified)"
            page.locator(".saca-compare-day").filter(has_text="day 8 of 180").wait_for()
            _type(page, ".saca-number-contract", "0")
            page.get_by_role("button", name="Reset", exact=True).click()
            page.locator(".saca-compare-day").filter(has_text="day 0 of 180").wait_for()
            for day in range(1, 4):
                step.click()
                page.locator(".saca-compare-day").filter(has_text=f"day {day} of 180").wait_for()
            page.wait_for_timeout(500)
            expected = AppModel(preset="hybrid", seed=7, information=0.3, contract=0.0)
            reference = AppModel(preset="autonomous", seed=7)
            expected.run_for(3)
            reference.run_for(3)
            for key in ("trust_resident_sunk", "burnout_mean", "needs_open"):
                want = current_metrics(expected)[key]
                got = _metric(page, key, mine)
                assert float(got) == pytest.approx(want, abs=1e-3 if key != "needs_open" else 0)
                ref = float(_metric(page, key, "autonomous"))
                assert ref == pytest.approx(current_metrics(reference)[key], abs=1e-3)
            overlaps = _overlaps(page, COMPARE_PARTS)
            page.screenshot(path=str(ARTIFACTS / "app-side-by-side.png"))
            assert not overlaps, overlaps

            # Replicates: 3 seeds of both regimes give a band and paired differences.
            page.get_by_role("tab", name="Replicates").click()
            _type(page, ".saca-replicate-n", "3")
            page.get_by_role("button", name="Run 3 seeds").click()
            page.locator(".saca-replicate-progress").wait_for()  # runs in the background
            page.locator("img.saca-band").wait_for(timeout=240_000)
            table = page.locator("table.saca-replicate-table")
            assert table.locator("tr[data-metric]").count() > 5
            diff = table.locator("tr[data-metric='efficacy'] td.saca-diff").inner_text()
            assert "[" in diff  # a CI, so three seeds really ran
            page.screenshot(path=str(ARTIFACTS / "app-replicates.png"))

            # The shared address restores scenario, preset, seed and edits.
            link = page.locator("a.saca-share").get_attribute("href")
            other = browser.new_page(viewport={"width": 1440, "height": 900})
            watch(other)
            other.goto(app_url.rstrip("/") + "/" + link.lstrip("/"))
            other.locator(".saca-status").filter(has_text="seed 7").filter(
                has_text="hybrid (modified)"
            ).wait_for()
            other.locator(".saca-regime").filter(has_text="information 0.30").filter(
                has_text="contract 0.00"
            ).wait_for()
            assert (
                other.get_by_role("slider", name="contract").get_attribute("aria-valuenow") == "0"
            )
            other.screenshot(path=str(ARTIFACTS / "app-1440.png"))
            assert not _overlaps(other, EXPLORE_PARTS), _overlaps(other, EXPLORE_PARTS)
            other.close()
        finally:
            browser.close()
    timing = {
        "step_round_trip_s": times,
        "median_step_round_trip_s": float(np.median(times)),
        "server": server_ms,
        "figures": draw_ms,
    }
    (ARTIFACTS / "app-timing.json").write_text(json.dumps(timing, indent=2))
    print(f"app step round trip (click -> new day shown): {timing}")
    assert not errors, "HTTP errors, console or page errors:\n" + "\n".join(errors)
