"""Altair chart builders for the quarterly report.

Every builder takes SMALL, already aggregated polars frames (built by SQL in sql/report/) and
returns an Altair chart; Altair inlines every row it is given, so nothing here ever receives
person-level data. Suppressed segments reach a chart only as label rows (a text such as
"< 5", no figure) or not at all.

House style: system fonts, the Okabe-Ito palette (safe for colour-blind readers), units in axis
titles, percentages formatted as %, euros with thousands separators (the report renders with a
d3 locale of the report's language whose currency is €: ``kpi.report.i18n.format_locale``).

Altair is imported inside the functions (see docs/architecture.md: heavy imports never at import
time of kpi.cli).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kpi.report.i18n import N_, _

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

#: Okabe & Ito (2008): distinguishable with every common colour-vision deficiency. Yellow last:
#: it is weak on white.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]
COMPANY_COLOUR = "#000000"
COST_COLOUR = "#D55E00"  # vermillion
BENEFIT_COLOUR = "#009E73"  # bluish green
BASELINE_COLOUR = "#999999"
SUPPRESSED_FILL = "#d9d9d9"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

#: d3-format locale of every chart (HTML via vega-embed, PNG/SVG via vl-convert): `$` is €.

FULL_WIDTH = 820
HALF_WIDTH = 360
HEIGHT = 240

#: Axis label expression for a change stored as a fraction, shown in percentage points (the unit
#: translated where it is used: :func:`points_label`).
POINTS_LABEL = "(datum.value > 0 ? '+' : datum.value < 0 ? '−' : '') + format(abs(datum.value) * 100, '.0f') + ' pts'"
#: The usage trend's metric names (sql/report/usage_trend.sql), shown translated.
USAGE_METRICS = (N_("Active-user rate"), N_("Regular-user rate"))
#: Series and category labels put into the charts' data (kpi.report.charts), shown translated.
SAVINGS_COMPONENTS = (N_("Time savings"), N_("Quality savings"))
ROI_SERIES = (N_("Cumulative costs"), N_("Cumulative benefits"))
PLAN_KINDS = (N_("Plan"), N_("Actual"))


def vega_text(text: str) -> str:
    """A text as a single-quoted string of a Vega expression."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def points_label() -> str:
    """POINTS_LABEL with the unit in the report's language."""
    return POINTS_LABEL.replace("' pts'", vega_text(" " + _("pts")))


def percent_label(value: str) -> str:
    """A Vega expression: the formatted ``value`` and the language's percent sign (' %' in English)."""
    from kpi.report.formatting import percent_sign

    return f"format({value}, ',.0f') + {vega_text(percent_sign())}"


def move_labels() -> tuple[str, str]:
    """The tornado's two cases: '−20 %' and '+20 %' (the language's percent sign)."""
    from kpi.report.formatting import percent_sign

    return "−20" + percent_sign(), "+20" + percent_sign()


def _alt():
    import altair as alt

    return alt


def style(chart: Any, title: str, subtitle: str | None = None) -> Any:
    """Title and the house configuration (fonts, palette, axes) on a top-level chart."""
    alt = _alt()
    params = {"text": title, "anchor": "start", "fontSize": 15, "fontWeight": 600, "font": FONT,
              "subtitleFont": FONT, "subtitleFontSize": 12, "subtitleColor": "#555"}
    if subtitle:
        params["subtitle"] = subtitle
    return (
        chart.properties(title=alt.TitleParams(**params))
        .configure(font=FONT, background="white", padding=8)
        .configure_range(category=OKABE_ITO)
        .configure_axis(labelFontSize=11, titleFontSize=12, titleFontWeight=500, labelColor="#333",
                        titleColor="#333", gridColor="#e6e6e6", domainColor="#888", tickColor="#888")
        .configure_legend(labelFontSize=11, titleFontSize=11, orient="bottom", direction="horizontal",
                          symbolStrokeWidth=2.5)
        .configure_header(labelFontSize=12, labelFontWeight=600, labelFont=FONT, titleFont=FONT)
        .configure_view(stroke=None)
    )


def _segment_colour_scale(segments: list[str]):
    """Company in black first, the other segments in Okabe-Ito order."""
    alt = _alt()
    company = _("Company")
    others = [s for s in segments if s != company]
    domain = ([company] if company in segments else []) + others
    palette = [c for c in OKABE_ITO if c != COMPANY_COLOUR]
    rng = ([COMPANY_COLOUR] if company in segments else []) + [palette[i % len(palette)] for i in range(len(others))]
    return alt.Scale(domain=domain, range=rng)


def _quarter_x(title: str | None = None, quarters: list[str] | None = None):
    """Quarter labels on two lines ("2025" over "Q3") so eight quarters fit a half-width chart."""
    alt = _alt()
    title = _("Quarter") if title is None else title
    scale = alt.Scale(domain=list(quarters)) if quarters else alt.Undefined
    return alt.X("quarter:O", title=title, scale=scale,
                 axis=alt.Axis(labelAngle=0, labelExpr="split(datum.label, '-')", labelLineHeight=13))


# --------------------------------------------------------------------------------------------
# Usage
# --------------------------------------------------------------------------------------------


def usage_rates(frame: pl.DataFrame, note: str | None = None, quarters: list[str] | None = None) -> Any:
    """Active- and regular-user rate over quarters: the company (thick black) and one line per
    target group. Columns: quarter, segment (the company's label, ``_("Company")``, or the group),
    metric (one of USAGE_METRICS, translated), value (fraction)."""
    alt = _alt()
    segments = list(dict.fromkeys(frame.get_column("segment").to_list())) if frame.height else []
    base = alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=36)).encode(
        x=_quarter_x(quarters=quarters),
        y=alt.Y("value:Q", title=_("Share of headcount (%%)"), axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("segment:N", title=_("Segment"), scale=_segment_colour_scale(segments)),
        strokeWidth=alt.condition(f"datum.segment === {vega_text(_('Company'))}", alt.value(3.5), alt.value(1.8)),
        tooltip=[alt.Tooltip("quarter:O", title=_("Quarter")), alt.Tooltip("segment:N", title=_("Segment")),
                 alt.Tooltip("metric:N", title=_("Metric")), alt.Tooltip("value:Q", title=_("Rate"), format=".1%")],
    ).properties(width=HALF_WIDTH, height=HEIGHT)
    chart = base.facet(column=alt.Column("metric:N", title=None, sort=[_(m) for m in USAGE_METRICS]))
    return style(chart, _("Active and regular users"), note or _("Share of headcount, company and target groups"))


def department_heatmap(frame: pl.DataFrame, k: int) -> Any:
    """Department × quarter heatmap of the active-user rate.

    Columns: segment (department), quarter, active_user_rate (NULL/absent when suppressed),
    label (the formatted rate, or the suppression label), suppressed (bool). Suppressed cells are
    drawn grey with their label only."""
    alt = _alt()
    y = alt.Y("segment:N", title=_("Department"), sort="ascending")
    x = alt.X("quarter:O", title=None, axis=alt.Axis(labelAngle=0, orient="top", domain=False, ticks=False))
    shown = alt.Chart().transform_filter("datum.suppressed !== true").mark_rect(stroke="white", strokeWidth=1.5).encode(
        x=x, y=y,
        color=alt.Color("active_user_rate:Q", title=_("Active-user rate"),
                        scale=alt.Scale(scheme="blues", domain=[0, 1]),
                        legend=alt.Legend(format=".0%", orient="bottom", direction="horizontal", gradientLength=220)),
        tooltip=[alt.Tooltip("segment:N", title=_("Department")), alt.Tooltip("quarter:O", title=_("Quarter")),
                 alt.Tooltip("active_user_rate:Q", title=_("Active-user rate"), format=".1%")],
    )
    hidden = alt.Chart().transform_filter("datum.suppressed === true").mark_rect(
        fill=SUPPRESSED_FILL, stroke="white", strokeWidth=1.5).encode(
        x=x, y=y, tooltip=[alt.Tooltip("segment:N", title=_("Department")),
                           alt.Tooltip("quarter:O", title=_("Quarter")),
                           alt.Tooltip("label:N", title=_("Suppressed"))])
    text = alt.Chart().mark_text(fontSize=11).encode(
        x=x, y=y, text="label:N",
        color=alt.condition("datum.suppressed !== true && datum.active_user_rate > 0.6", alt.value("white"),
                            alt.value("#222")),
    )
    rows = max(1, frame.get_column("segment").n_unique()) if frame.height else 1
    chart = alt.layer(shown, hidden, text, data=frame).properties(width=FULL_WIDTH - 160, height=26 * rows)
    any_hidden = bool(frame.height and frame.get_column("suppressed").any())
    return style(chart, _("Active-user rate by department"),
                 _("Grey cells: fewer than %(k)s people, or withheld to protect such a group; they carry no figure",
                   k=k)
                 if any_hidden else _("Share of each department's headcount with at least one AI interaction"))


def tool_adoption(frame: pl.DataFrame, quarters: list[str] | None = None) -> Any:
    """Active users per tool over quarters. Columns: quarter, tool, active_users."""
    alt = _alt()
    chart = alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=36), strokeWidth=2.2).encode(
        x=_quarter_x(quarters=quarters),
        y=alt.Y("active_users:Q", title=_("Active users (people)"), axis=alt.Axis(format=",d")),
        color=alt.Color("tool:N", title=_("Tool")),
        tooltip=[alt.Tooltip("quarter:O", title=_("Quarter")), alt.Tooltip("tool:N", title=_("Tool")),
                 alt.Tooltip("active_users:Q", title=_("Active users"), format=",d")],
    ).properties(width=FULL_WIDTH - 60, height=HEIGHT)
    return style(chart, _("Tool adoption"), _("People with at least one interaction in the quarter, per tool"))


# --------------------------------------------------------------------------------------------
# Competence
# --------------------------------------------------------------------------------------------


def competence_trend(scores: pl.DataFrame, rates: pl.DataFrame, quarters: list[str] | None = None) -> Any:
    """Skill score (0-100) beside proficient rate and trained share (%), company, over quarters.
    ``scores``: quarter, skill_score; ``rates``: quarter, metric, value (fraction)."""
    alt = _alt()
    left = alt.Chart(scores).mark_line(point=alt.OverlayMarkDef(size=40), strokeWidth=3, color=OKABE_ITO[0]).encode(
        x=_quarter_x(quarters=quarters),
        y=alt.Y("skill_score:Q", title=_("Skill score (0–100)"), scale=alt.Scale(domain=[0, 100])),
        tooltip=[alt.Tooltip("quarter:O", title=_("Quarter")),
                 alt.Tooltip("skill_score:Q", title=_("Skill score"), format=".1f")],
    ).properties(width=HALF_WIDTH, height=HEIGHT, title=_("Mean AI-literacy score to date"))
    right = alt.Chart(rates).mark_line(point=alt.OverlayMarkDef(size=40), strokeWidth=2.5).encode(
        x=_quarter_x(quarters=quarters),
        y=alt.Y("value:Q", title=_("Share (%%)"), axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("metric:N", title=None, scale=alt.Scale(range=[OKABE_ITO[1], OKABE_ITO[2]])),
        tooltip=[alt.Tooltip("quarter:O", title=_("Quarter")), alt.Tooltip("metric:N", title=_("Metric")),
                 alt.Tooltip("value:Q", title=_("Share"), format=".1%")],
    ).properties(width=HALF_WIDTH, height=HEIGHT, title=_("Proficient to date, and trained"))
    chart = alt.hconcat(left, right, spacing=40).resolve_scale(color="independent")
    return style(chart, _("Competence"), _("Company; each assessed person's latest score to date; proficient = that "
                                           "score ≥ the configured threshold"))


def cohort_curve(frame: pl.DataFrame) -> Any:
    """Active-user rate and skill score by months since the first training (company, to date).
    Columns: months_since_training, people, active_user_rate, skill_score (NULL: fewer than k assessed)."""
    alt = _alt()
    x = alt.X("months_since_training:Q", title=_("Months since the first completed training"),
              axis=alt.Axis(tickMinStep=1, format="d"))
    tooltip = [alt.Tooltip("months_since_training:Q", title=_("Month")), alt.Tooltip("people:Q", title=_("People"))]
    left = alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=36), strokeWidth=3, color=OKABE_ITO[0]).encode(
        x=x, y=alt.Y("active_user_rate:Q", title=_("Active in the month (%%)"), axis=alt.Axis(format=".0%"),
                     scale=alt.Scale(domain=[0, 1])),
        tooltip=[*tooltip, alt.Tooltip("active_user_rate:Q", title=_("Active"), format=".1%")],
    ).properties(width=HALF_WIDTH, height=HEIGHT, title=_("Usage"))
    right = alt.Chart(frame).transform_filter("isValid(datum.skill_score)").mark_line(
        point=alt.OverlayMarkDef(size=36), strokeWidth=3, color=OKABE_ITO[1]).encode(
        x=x, y=alt.Y("skill_score:Q", title=_("Skill score (0–100)"), scale=alt.Scale(domain=[0, 100])),
        tooltip=[*tooltip, alt.Tooltip("skill_score:Q", title=_("Skill score"), format=".1f")],
    ).properties(width=HALF_WIDTH, height=HEIGHT, title=_("Skill of those assessed in the month"))
    return style(alt.hconcat(left, right, spacing=40), _("After the training"),
                 _("Company, every person from the month of their first completed training; months of fewer than "
                   "k people are left out"))


# --------------------------------------------------------------------------------------------
# Business
# --------------------------------------------------------------------------------------------


def business_savings(hours: pl.DataFrame, savings: pl.DataFrame, quarters: list[str] | None = None) -> Any:
    """Hours saved and measured savings (€, time + quality) per quarter, company.
    ``hours``: quarter, hours_saved; ``savings``: quarter, component, eur."""
    alt = _alt()
    left = alt.Chart(hours).mark_bar(color=OKABE_ITO[0], size=22).encode(
        x=_quarter_x(quarters=quarters),
        y=alt.Y("hours_saved:Q", title=_("Hours saved (h)"), axis=alt.Axis(format=",.0f")),
        tooltip=[alt.Tooltip("quarter:O", title=_("Quarter")),
                 alt.Tooltip("hours_saved:Q", title=_("Hours saved"), format=",.0f")],
    ).properties(width=HALF_WIDTH, height=HEIGHT, title=_("Hours saved vs baseline"))
    right = alt.Chart(savings).mark_bar(size=22).encode(
        x=_quarter_x(quarters=quarters),
        y=alt.Y("eur:Q", title=_("Savings (€)"), stack="zero", axis=alt.Axis(format="$,.0f")),
        color=alt.Color("component:N", title=None, scale=alt.Scale(domain=[_(c) for c in SAVINGS_COMPONENTS],
                                                                    range=[OKABE_ITO[2], OKABE_ITO[1]])),
        order=alt.Order("component:N", sort="descending"),
        tooltip=[alt.Tooltip("quarter:O", title=_("Quarter")), alt.Tooltip("component:N", title=_("Component")),
                 alt.Tooltip("eur:Q", title=_("Savings"), format="$,.0f")],
    ).properties(width=HALF_WIDTH, height=HEIGHT, title=_("Measured savings (before attribution)"))
    chart = alt.hconcat(left, right, spacing=40)
    return style(chart, _("Business impact"),
                 _("Company, sums over processes and departments (measured, not estimated)"))


def error_rates(frame: pl.DataFrame, quarter: str) -> Any:
    """Error rate per process (and department) in the quarter vs its baseline.
    Columns: process (label), period (``_("Baseline")`` or the quarter), error_rate (fraction)."""
    alt = _alt()
    baseline = _("Baseline")
    rows = max(1, frame.get_column("process").n_unique()) if frame.height else 1
    chart = alt.Chart(frame).mark_bar(height=9).encode(
        y=alt.Y("process:N", title=None, sort="ascending", axis=alt.Axis(labelLimit=320)),
        yOffset=alt.YOffset("period:N", sort=[baseline, quarter]),
        x=alt.X("error_rate:Q", title=_("Error rate (%% of cases)"), axis=alt.Axis(format=".0%")),
        color=alt.Color("period:N", title=None, sort=[baseline, quarter],
                        scale=alt.Scale(domain=[baseline, quarter], range=[BASELINE_COLOUR, OKABE_ITO[0]])),
        tooltip=[alt.Tooltip("process:N", title=_("Process")), alt.Tooltip("period:N", title=_("Period")),
                 alt.Tooltip("error_rate:Q", title=_("Error rate"), format=".1%")],
    ).properties(width=FULL_WIDTH - 260, height=alt.Step(11) if rows > 8 else 30 * rows)
    return style(chart, _("Error rate per process, %(quarter)s vs baseline", quarter=quarter),
                 _("Σ errors / Σ cases; lower is better"))


# --------------------------------------------------------------------------------------------
# Culture
# --------------------------------------------------------------------------------------------


def culture_favorability(frame: pl.DataFrame, quarters: list[str] | None = None) -> Any:
    """Favorability per construct per survey wave, company. Columns: quarter, construct, favorability."""
    alt = _alt()
    chart = alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=40), strokeWidth=2.2).encode(
        x=_quarter_x(_("Survey wave"), quarters),
        y=alt.Y("favorability:Q", title=_("Favorable answers (%%)"), axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("construct:N", title=_("Construct")),
        tooltip=[alt.Tooltip("quarter:O", title=_("Wave")), alt.Tooltip("construct:N", title=_("Construct")),
                 alt.Tooltip("favorability:Q", title=_("Favorability"), format=".1%")],
    ).properties(width=HALF_WIDTH, height=HEIGHT)
    return style(chart, _("Favorability per construct"), _("Top-2-box share of answered items, company"))


def culture_change(frame: pl.DataFrame, wave: str, previous: str | None) -> Any:
    """Change in favorability against the previous wave with its 95 % Newcombe interval.
    Columns: construct, change, low, high (fractions)."""
    alt = _alt()
    axis = alt.Axis(labelExpr=points_label(), tickCount=6)
    base = alt.Chart(frame).encode(y=alt.Y("construct:N", title=None, sort="ascending"))
    bars = base.mark_rule(strokeWidth=2.5, color=OKABE_ITO[0]).encode(
        x=alt.X("low:Q", title=_("Change in favorability (percentage points)"), axis=axis), x2="high:Q")
    points = base.mark_point(filled=True, size=90, color=OKABE_ITO[0]).encode(
        x="change:Q",
        tooltip=[alt.Tooltip("construct:N", title=_("Construct")),
                 alt.Tooltip("change:Q", title=_("Change"), format="+.1%"),
                 alt.Tooltip("low:Q", title=_("95 %% interval from"), format="+.1%"),
                 alt.Tooltip("high:Q", title=_("95 %% interval to"), format="+.1%")])
    zero = alt.Chart().mark_rule(color="#555", strokeDash=[4, 3]).encode(x=alt.datum(0))
    chart = alt.layer(zero, bars, points).properties(width=HALF_WIDTH, height=HEIGHT)
    title = (_("Change %(wave)s since %(previous)s", wave=wave, previous=previous) if previous
             else _("Change %(wave)s", wave=wave))
    return style(chart, title, _("Dot: change; bar: 95 %% interval (Newcombe). A bar crossing 0 is no clear change"))


# --------------------------------------------------------------------------------------------
# ROI
# --------------------------------------------------------------------------------------------


def roi_cumulative(frame: pl.DataFrame, break_even: pl.DataFrame | None, status: str) -> Any:
    """Cumulative costs and benefits by month, break-even marked with a rule and a label.
    ``frame``: month (ISO date text, first of month), series (one of ROI_SERIES, translated), eur;
    ``break_even``: month, label. Month names come from the chart's d3 time locale (``%b``)."""
    alt = _alt()
    x = alt.X("month:T", timeUnit="utcyearmonth", title=_("Month"),
              axis=alt.Axis(format="%b %Y", labelAngle=-40, tickCount={"interval": "month", "step": 3}))
    lines = alt.Chart(frame).mark_line(strokeWidth=3, point=alt.OverlayMarkDef(size=20)).encode(
        x=x,
        y=alt.Y("eur:Q", title=_("Cumulative amount (€)"), axis=alt.Axis(format="$,.0f")),
        color=alt.Color("series:N", title=None,
                        scale=alt.Scale(domain=[_(series) for series in ROI_SERIES],
                                        range=[COST_COLOUR, BENEFIT_COLOUR])),
        tooltip=[alt.Tooltip("month:T", timeUnit="utcyearmonth", title=_("Month"), format="%B %Y"),
                 alt.Tooltip("series:N", title=_("Series")), alt.Tooltip("eur:Q", title=_("Amount"), format="$,.0f")],
    )
    layers = [lines]
    if break_even is not None and break_even.height:
        rule = alt.Chart(break_even).mark_rule(color="#333", strokeDash=[5, 4], strokeWidth=1.5).encode(
            x=alt.X("month:T", timeUnit="utcyearmonth"))
        label = alt.Chart(break_even).mark_text(align="left", dx=6, dy=-6, fontSize=12, fontWeight=600,
                                                color="#333", baseline="top").encode(
            x=alt.X("month:T", timeUnit="utcyearmonth"), y=alt.value(4), text="label:N")
        layers += [rule, label]
    chart = alt.layer(*layers).properties(width=FULL_WIDTH - 300, height=280)
    return style(chart, _("Cumulative costs vs benefits"), status)


def event_study(frame: pl.DataFrame) -> Any:
    """The training's effect on one outcome by months relative to each department's training,
    with its 95 % interval: flat before 0 (parallel trends), falling after it. Columns:
    relative_month, effect, ci_low, ci_high, n_series (shares of the baseline level)."""
    alt = _alt()
    x = alt.X("relative_month:Q", title=_("Months relative to the department's training (0 = its month)"),
              axis=alt.Axis(tickMinStep=1, format="d"))
    band = alt.Chart(frame).transform_filter("isValid(datum.ci_low)").mark_area(opacity=0.2, color=OKABE_ITO[0]).encode(
        x=x, y=alt.Y("ci_low:Q", title=_("Effect (share of the baseline level)"), axis=alt.Axis(format="+.0%")),
        y2="ci_high:Q")
    line = alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=30), color=OKABE_ITO[0], strokeWidth=2.5).encode(
        x=x, y="effect:Q",
        tooltip=[alt.Tooltip("relative_month:Q", title=_("Month")),
                 alt.Tooltip("effect:Q", title=_("Effect"), format="+.1%"),
                 alt.Tooltip("ci_low:Q", title=_("95 %% low"), format="+.1%"),
                 alt.Tooltip("ci_high:Q", title=_("95 %% high"), format="+.1%"),
                 alt.Tooltip("n_series:Q", title=_("Series"))])
    zero = alt.Chart(frame).mark_rule(color="#888", strokeDash=[4, 3]).encode(y=alt.datum(0))
    chart = alt.layer(band, line, zero).properties(width=HALF_WIDTH * 2, height=HEIGHT)
    return style(chart, _("Is it the training? Minutes per case around each department's training"),
                 _("Difference from what the common trend alone predicts, as a share of the baseline; shaded: 95 %% "
                   "interval"))


def tornado(frame: pl.DataFrame, base_roi: float) -> Any:
    """ROI at horizon when one assumption moves −20 % / +20 %, bars around the base ROI, sorted
    by swing (largest on top). Columns: assumption (label), case (:func:`move_labels`: "−20 %"/"+20 %"),
    roi_pct, order (sort key)."""
    from kpi.report.formatting import number_text, percent_sign

    alt = _alt()
    order = frame.sort("order").get_column("assumption").unique(maintain_order=True).to_list() if frame.height else []
    y = alt.Y("assumption:N", title=None, sort=order)
    cases = list(move_labels())
    color = alt.Color("case:N", title=_("Assumption moved by"), sort=cases,
                      scale=alt.Scale(domain=cases, range=[OKABE_ITO[3], OKABE_ITO[0]]))
    bars = alt.Chart(frame).mark_bar(height=18).encode(
        y=y, x=alt.X("roi_pct:Q", title=_("ROI at horizon (%%)"),
                     axis=alt.Axis(labelExpr=percent_label("datum.value"))),
        x2=alt.X2("base:Q"), color=color,
        tooltip=[alt.Tooltip("assumption:N", title=_("Assumption")), alt.Tooltip("case:N", title=_("Moved by")),
                 alt.Tooltip("roi_pct:Q", title=_("ROI (%%)"), format=",.1f")],
    ).transform_calculate(base=str(float(base_roi)))
    label = percent_label("datum.roi_pct")
    below = alt.Chart(frame).transform_filter(f"datum.roi_pct < {float(base_roi)}").transform_calculate(
        label=label).mark_text(fontSize=10, color="#333", align="right", dx=-4).encode(
        y=y, x="roi_pct:Q", text="label:N")
    above = alt.Chart(frame).transform_filter(f"datum.roi_pct >= {float(base_roi)}").transform_calculate(
        label=label).mark_text(fontSize=10, color="#333", align="left", dx=4).encode(
        y=y, x="roi_pct:Q", text="label:N")
    rule = alt.Chart().mark_rule(color="#222", strokeWidth=1.5).encode(x=alt.datum(float(base_roi)))
    chart = alt.layer(bars, below, above, rule).properties(width=FULL_WIDTH - 320, height=max(120, 34 * len(order)))
    low, high = cases
    return style(chart, _("Sensitivity (tornado)"),
                 _("ROI at horizon when one assumption moves by %(low)s or %(high)s; line = base ROI %(roi)s",
                   low=low, high=high, roi=number_text(base_roi, 1) + percent_sign()))


def plan_vs_actual(frame: pl.DataFrame) -> Any:
    """Plan vs actual budget by category. Columns: category (label), kind (PLAN_KINDS, translated), eur."""
    alt = _alt()
    kinds = [_(kind) for kind in PLAN_KINDS]
    cats = frame.get_column("category").unique(maintain_order=True).to_list() if frame.height else []
    chart = alt.Chart(frame).mark_bar(height=11).encode(
        y=alt.Y("category:N", title=None, sort=cats),
        yOffset=alt.YOffset("kind:N", sort=kinds),
        x=alt.X("eur:Q", title=_("Amount, months 1–12 (€)"), axis=alt.Axis(format="$,.0f")),
        color=alt.Color("kind:N", title=None, sort=kinds,
                        scale=alt.Scale(domain=kinds, range=[BASELINE_COLOUR, OKABE_ITO[0]])),
        tooltip=[alt.Tooltip("category:N", title=_("Category")), alt.Tooltip("kind:N", title=""),
                 alt.Tooltip("eur:Q", title=_("Amount"), format="$,.0f")],
    ).properties(width=FULL_WIDTH - 320, height=30 * max(1, len(cats)))
    return style(chart, _("Budget: plan vs actual"),
                 _("Ledger of months 1–12 by category (participant time is not a ledger line)"))
