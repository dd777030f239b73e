"""How a duration in milliseconds reads, in the GUI and the CLI alike."""

from __future__ import annotations

NO_VALUE = "—"


def format_ms(ms: float | None) -> str:
    """Milliseconds below ten seconds ("840 ms"), seconds above ("12.3 s")."""
    if ms is None:
        return NO_VALUE
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


def format_seconds(ms: float | None) -> str:
    """Seconds throughout ("0.85 s", "1.2 s"), so a column of latencies reads at a glance."""
    if ms is None:
        return NO_VALUE
    seconds = ms / 1000
    return f"{seconds:.2f} s" if seconds < 1 else f"{seconds:.1f} s"
