"""Plots where people would rather look than read: the funnel of a simulated journey and a
journey's timeline.  Needs matplotlib (the optional extra ``plot``:
``pip install 'emma-osplus[plot]'``), which is imported only when a plot is drawn.

Both functions draw into the matplotlib ``Axes`` given as *ax* (or a new figure's) and return
it, so they combine with everything else matplotlib does:

.. code-block:: python

    import matplotlib.pyplot as plt
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 8))
    plot_funnel(result, ax=top)
    plot_journey_timeline(result, ax=bottom)
    fig.savefig("journey.png")

* :func:`plot_funnel` — per step, bars for the mails sent, opened and clicked, the
  unsubscribes and bounces, and a line for the subscribers still in the journey;
* :func:`plot_journey_timeline` — for a plan, campaign or journey: its steps on a line of days
  after the entry, with the waits between them; for a simulation result also the response
  events per day.

>>> plot_funnel("not a report")
Traceback (most recent call last):
...
TypeError: plot_funnel needs a FunnelReport or SimulationResult, not str
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._campaigns import Campaign
from ._journeys import JourneyPlan, JourneyRun
from ._simulation import FunnelReport, SimulationResult, plan_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["COLOURS", "plot_funnel", "plot_journey_timeline"]

#: The colour of each measure (matplotlib's default cycle, so that plots look familiar).
COLOURS: dict[str, str] = {
    "sent": "#1f77b4",
    "opened": "#2ca02c",
    "clicked": "#ff7f0e",
    "unsubscribed": "#d62728",
    "bounced": "#8c564b",
    "withheld": "#7f7f7f",
    "in journey": "#9467bd",
}


def _new_axes(what: str, figsize: tuple[float, float]) -> Axes:
    """A new figure's axes (pyplot, so that notebooks show it); a clear message when
    matplotlib is missing."""
    try:
        pyplot: Any = importlib.import_module("matplotlib.pyplot")
    except ImportError as exc:
        raise ImportError(
            f"{what} needs matplotlib; install the optional extra: pip install 'emma-osplus[plot]'"
        ) from exc
    _, ax = pyplot.subplots(figsize=figsize, layout="constrained")
    result: Axes = ax
    return result


def _report_of(value: object) -> FunnelReport:
    if isinstance(value, SimulationResult):
        return value.report
    if isinstance(value, FunnelReport):
        return value
    raise TypeError(
        f"plot_funnel needs a FunnelReport or SimulationResult, not {type(value).__name__}"
    )


def plot_funnel(
    report: FunnelReport | SimulationResult, ax: Axes | None = None, *, title: str | None = None
) -> Axes:
    """Draw the funnel of *report* (a :class:`~emma_osplus._simulation.FunnelReport` or the
    :class:`~emma_osplus._simulation.SimulationResult` that has it) and return the axes.

    Per step (labelled with its number, mailing and day): bars for sent, opened, clicked,
    unsubscribed and bounced (hard and soft) recipients, each with its count, and a line for
    the subscribers still in the journey after the step.  *title* defaults to
    ``Funnel: <journey name>``.
    """
    funnel = _report_of(report)
    if ax is None:
        ax = _new_axes("plot_funnel", (max(6.0, 2.2 * len(funnel.steps) + 2.0), 4.5))
    measures: Sequence[tuple[str, str]] = (
        ("sent", "sent"),
        ("opened", "opened"),
        ("clicked", "clicked"),
        ("unsubscribed", "unsubscribed"),
        ("bounced", "bounced"),
    )
    width = 0.8 / len(measures)
    positions = list(range(len(funnel.steps)))
    for index, (label, attribute) in enumerate(measures):
        offset = (index - (len(measures) - 1) / 2) * width
        values = [getattr(step, attribute) for step in funnel.steps]
        bars = ax.bar(
            [p + offset for p in positions],
            values,
            width,
            label=label,
            color=COLOURS[label],
        )
        ax.bar_label(bars, fontsize=7, padding=1)
    ax.plot(
        positions,
        [step.still_in_journey for step in funnel.steps],
        marker="o",
        color=COLOURS["in journey"],
        label="still in journey",
    )
    ax.set_xticks(
        positions,
        [f"{step.step}. {step.mailing}\nday {step.day}" for step in funnel.steps],
    )
    ax.set_ylabel("recipients")
    ax.set_ylim(0, max([funnel.entered, *(s.sent for s in funnel.steps), 1]) * 1.25)
    ax.set_title(title or f"Funnel: {funnel.name}")
    ax.legend(fontsize=8, ncols=3, loc="upper right")
    return ax


def _events_by_day(result: SimulationResult) -> tuple[list[int], dict[str, list[int]]]:
    """Days from the start, and per measure the number of events on each day."""
    kinds = {
        "sent": "sent",
        "opened": "opened",
        "clicked": "clicked",
        "unsubscribed": "unsubscribed",
        "hard_bounce": "bounced",
        "soft_bounce": "bounced",
        "withheld": "withheld",
    }
    start = result.start
    last = max((e.at for e in result.events), default=start)
    days = list(range((last - start) // dt.timedelta(days=1) + 1))
    counts = {label: [0] * len(days) for label in dict.fromkeys(kinds.values())}
    for event in result.events:
        counts[kinds[event.KIND]][(event.at - start) // dt.timedelta(days=1)] += 1
    return days, counts


def plot_journey_timeline(
    plan_or_result: JourneyPlan | JourneyRun | Campaign | SimulationResult,
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> Axes:
    """Draw the timeline of a journey and return the axes.

    For a :class:`~emma_osplus._journeys.JourneyPlan`, a
    :class:`~emma_osplus._journeys.JourneyRun` (its current plan) or a
    :class:`~emma_osplus._campaigns.Campaign` (its send blocks and waits): the steps as
    markers on a line of days after the entry, each labelled with its number and mailing, the
    waits between them written above the line.

    For a :class:`~emma_osplus._simulation.SimulationResult`: the response events per day
    since the start as stacked bars (sent, opened, clicked, unsubscribed, bounced, withheld)
    and the days the steps fall due for the first entrants as labelled vertical lines.
    """
    if isinstance(plan_or_result, SimulationResult):
        return _timeline_of_result(plan_or_result, ax, title)
    if not isinstance(plan_or_result, (JourneyPlan, JourneyRun, Campaign)):
        raise TypeError(
            "plot_journey_timeline needs a JourneyPlan, JourneyRun, Campaign or "
            f"SimulationResult, not {type(plan_or_result).__name__}"
        )
    plan = plan_of(plan_or_result)
    name = "" if isinstance(plan_or_result, JourneyPlan) else plan_or_result.name
    offsets = plan.offsets
    if ax is None:
        ax = _new_axes("plot_journey_timeline", (8.0, 2.8))
    end = max(offsets, default=0)
    ax.axhline(0, color="#444444", linewidth=1.5, zorder=1)
    ax.scatter(offsets, [0] * len(offsets), s=90, color=COLOURS["sent"], zorder=3)
    for number, (step, day) in enumerate(zip(plan.steps, offsets, strict=True), start=1):
        mailing = str(step.mailing) if step.mailing is not None else "(no mailing)"
        lift = -0.45 if number % 2 == 0 else -0.25
        ax.annotate(
            f"{number}. {mailing}\nday {day}",
            (day, 0),
            xytext=(day, lift),
            ha="center",
            va="top",
            fontsize=8,
            arrowprops={"arrowstyle": "-", "color": "#999999"},
        )
    previous = 0
    for step, day in zip(plan.steps, offsets, strict=True):
        if step.interval_days:
            ax.annotate(
                f"+{step.interval_days} d",
                ((previous + day) / 2, 0.08),
                ha="center",
                va="bottom",
                fontsize=8,
                color="#555555",
            )
        previous = day
    margin = max(1.0, end * 0.08)
    ax.set_xlim(-margin, end + margin)
    ax.set_ylim(-0.8, 0.4)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("days after entry")
    ax.set_title(title or (f"Journey: {name}" if name else "Journey timeline"))
    return ax


def _timeline_of_result(result: SimulationResult, ax: Axes | None, title: str | None) -> Axes:
    days, counts = _events_by_day(result)
    if ax is None:
        ax = _new_axes("plot_journey_timeline", (max(8.0, min(16.0, 0.25 * len(days) + 6)), 4.0))
    bottom = [0] * len(days)
    drawn = False
    for label, values in counts.items():
        if not any(values):
            continue
        ax.bar(days, values, 0.8, bottom=bottom, label=label, color=COLOURS[label])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        drawn = True
    top = max(bottom, default=0) or 1
    for number, (step, day) in enumerate(
        zip(result.plan.steps, result.plan.offsets, strict=True), start=1
    ):
        ax.axvline(day, color="#444444", linestyle="--", linewidth=0.8)
        ax.annotate(
            f"{number}. {step.mailing}",
            (day, top * 1.02),
            rotation=0,
            ha="left",
            va="bottom",
            fontsize=8,
        )
    ax.set_ylim(0, top * 1.15)
    ax.set_xlabel(f"days since {result.start.date().isoformat()}")
    ax.set_ylabel("events")
    ax.set_title(title or f"Responses over time: {result.name}")
    if drawn:
        ax.legend(fontsize=8, loc="upper right")
    return ax
