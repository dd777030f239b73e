"""One way to write a duration, for the GUI and the CLI alike."""

from __future__ import annotations

from promptstudio.cli.run import _status_line
from promptstudio.durations import format_ms, format_seconds
from promptstudio.providers import Endpoint
from promptstudio.runs import RunTarget, TargetResult, TargetStatus
from promptstudio.ui.board.run_column import ms_text
from promptstudio.ui.evaluate.eval_grid_model import format_ms as grid_format_ms


def test_milliseconds_below_ten_seconds_then_seconds() -> None:
    assert [format_ms(ms) for ms in (None, 0, 840.4, 9_999, 10_000, 12_345)] == [
        "—",
        "0 ms",
        "840 ms",
        "9999 ms",
        "10.0 s",
        "12.3 s",
    ]


def test_seconds_throughout_for_columns_of_latencies() -> None:
    assert [format_seconds(ms) for ms in (None, 1234, 850, 12_000)] == [
        "—",
        "1.2 s",
        "0.85 s",
        "12.0 s",
    ]


def test_the_run_column_the_evaluation_and_the_cli_share_it() -> None:
    assert ms_text is format_ms and grid_format_ms is format_ms
    result = TargetResult(
        RunTarget("t", Endpoint("http://127.0.0.1:1/v1"), "m"),
        status=TargetStatus.DONE,
        ttft_ms=812.0,
        total_ms=12_345.0,
    )
    assert _status_line(result) == "m: done · TTFT 812 ms · total 12.3 s"
