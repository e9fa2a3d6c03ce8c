"""render() alone keeps the first line within output.LINE_LIMIT bytes, over any summary and perfdata (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from check_tls_mail.plugin.output import LINE_LIMIT, PerfItem, render

labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_@.:0123456789", min_size=1, max_size=60)
items = st.builds(
    lambda label, value, rank: PerfItem(f"'{label}'={value:.2f};18:;9:;;90", (rank,)),
    labels,
    st.floats(min_value=-1000, max_value=100000, allow_nan=False),
    st.integers(min_value=0, max_value=6),
)


#: A label appears once on a first line (one per metric, address and certificate), as findings.label makes them.
perfdata = st.lists(items, max_size=80, unique_by=lambda item: item.text.partition("=")[0])


@given(st.text(max_size=1200), perfdata, st.sampled_from([0, 1, 2, 3]))
def test_perfdata_is_left_off_whole_and_least_important_first(summary: str, perf: list[PerfItem], state: int) -> None:
    first = render(state, summary, perf, []).split("\n")[0]
    assert len(first.encode()) <= LINE_LIMIT
    shown = first.split(" | ", 1)[1].split(" ") if " | " in first else []
    texts = [item.text for item in perf]
    assert all(text in texts for text in shown)  # never cut
    assert shown == [text for text in texts if text in shown]  # in their given order
    kept = {(item.rank, i) for i, item in enumerate(perf) if item.text in shown}
    left_off = {(item.rank, i) for i, item in enumerate(perf) if item.text not in shown}
    assert not kept or not left_off or max(kept) < min(left_off)


@given(st.text(max_size=3000))
def test_a_summary_of_any_length_and_script_stays_within_the_limit(summary: str) -> None:
    first = render(2, summary, ["days_remaining=1.00;18:;9:;;90"], []).split("\n")[0]
    assert len(first.encode()) <= LINE_LIMIT
    assert first.endswith(" | days_remaining=1.00;18:;9:;;90")
