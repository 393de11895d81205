"""Plots: the funnel chart and the journey timeline render to PNG with the Agg backend and
carry their labels (issue 8, "Plots").  Skipped only where matplotlib is not installed (the
optional extra ``plot``)."""

from __future__ import annotations

import importlib
import io
from collections.abc import Iterator
from typing import Any

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from emma_osplus._campaigns import Campaign, SendBlock, StartBlock, WaitBlock  # noqa: E402
from emma_osplus._journeys import JourneyPlan, JourneyRun  # noqa: E402
from emma_osplus._plots import plot_funnel, plot_journey_timeline  # noqa: E402
from emma_osplus._simulation import (  # noqa: E402
    Assumptions,
    SimulationResult,
    simulate,
    synthetic_subscribers,
)

PLAN = JourneyPlan.fixed(["M-WELCOME", "M-APP", "M-CARD"], every=7)


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    people = synthetic_subscribers(150, seed=2)
    return simulate(people, PLAN, Assumptions(open=0.4, click=0.3, unsubscribe=0.03), seed=4)


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def png(ax: Any) -> bytes:
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png")
    return buffer.getvalue()


def texts(ax: Any) -> list[str]:
    found = [t.get_text() for t in ax.get_xticklabels()]
    found += [t.get_text() for t in ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        found += [t.get_text() for t in legend.get_texts()]
    return found


def test_funnel_renders_with_its_labels(result: SimulationResult) -> None:
    ax = plot_funnel(result)
    data = png(ax)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 5000
    assert ax.get_title() == "Funnel: journey"
    assert ax.get_ylabel() == "recipients"
    labels = texts(ax)
    assert labels[:3] == ["1. M-WELCOME\nday 0", "2. M-APP\nday 7", "3. M-CARD\nday 14"]
    for name in ("sent", "opened", "clicked", "unsubscribed", "bounced", "still in journey"):
        assert name in labels
    # every bar carries its count, the first group the sent/opened/clicked of step 1
    first = result.report.step(1)
    assert {str(first.sent), str(first.opened), str(first.clicked)} <= set(labels)


def test_funnel_draws_into_given_axes_and_takes_a_report(result: SimulationResult) -> None:
    fig, (top, bottom) = plt.subplots(2, 1)
    assert plot_funnel(result.report, ax=top, title="Onboarding") is top
    assert top.get_title() == "Onboarding"
    assert plot_journey_timeline(result, ax=bottom) is bottom
    assert len(fig.axes) == 2
    assert png(top)


def test_timeline_of_a_plan() -> None:
    ax = plot_journey_timeline(PLAN)
    assert png(ax).startswith(b"\x89PNG")
    labels = texts(ax)
    assert "1. M-WELCOME\nday 0" in labels
    assert "3. M-CARD\nday 14" in labels
    assert labels.count("+7 d") == 2
    assert ax.get_xlabel() == "days after entry"
    assert ax.get_title() == "Journey timeline"


@pytest.mark.parametrize(
    ("target", "title"),
    [
        (
            Campaign("Herbst", [StartBlock("H"), SendBlock("M-1"), WaitBlock(3), SendBlock("M-2")]),
            "Journey: Herbst",
        ),
        (JourneyRun.from_template("OBV", PLAN), "Journey: OBV"),
    ],
)
def test_timeline_of_a_campaign_or_journey(target: Any, title: str) -> None:
    ax = plot_journey_timeline(target)
    assert ax.get_title() == title
    assert png(ax)


def test_timeline_of_a_result(result: SimulationResult) -> None:
    ax = plot_journey_timeline(result)
    assert png(ax).startswith(b"\x89PNG")
    labels = texts(ax)
    assert {"1. M-WELCOME", "2. M-APP", "3. M-CARD"} <= set(labels)
    assert {"sent", "opened", "clicked", "unsubscribed"} <= set(labels)
    assert ax.get_title() == "Responses over time: journey"
    assert ax.get_xlabel() == "days since 2026-01-05"
    heights = sum(patch.get_height() for patch in ax.patches if isinstance(patch, Rectangle))
    assert heights == len(result.events)


def test_empty_simulation_still_plots() -> None:
    empty = simulate([], PLAN)
    assert png(plot_funnel(empty))
    assert png(plot_journey_timeline(empty))


@pytest.mark.parametrize(
    ("function", "message"),
    [(plot_funnel, "FunnelReport or SimulationResult"), (plot_journey_timeline, "JourneyPlan")],
)
def test_wrong_input(function: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        function(42)


@pytest.mark.parametrize("function", [plot_funnel, plot_journey_timeline])
def test_missing_matplotlib_names_the_extra(
    function: Any, result: SimulationResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.import_module

    def fake(name: str, package: str | None = None) -> Any:
        if name.startswith("matplotlib"):
            raise ImportError(f"No module named {name!r}")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(ImportError, match=r"pip install 'emma-osplus\[plot\]'"):
        function(result)
