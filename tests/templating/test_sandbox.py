"""The sandbox and the caps: hostile templates fail with a TemplateError, quickly.

Every test here must end through the error it expects; none relies on a timer to pass.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from promptstudio.chat import Message
from promptstudio.templating import (
    RenderLimitExceeded,
    RenderLimits,
    TemplateError,
    render_messages,
)

SHORT = RenderLimits(timeout_seconds=0.5)


@pytest.fixture(autouse=True)
def process_stays_healthy() -> Iterator[None]:
    """After each hostile render, rendering still works and no render thread is left."""
    yield
    assert render_messages("user:\n{{ a }}", {"a": "fine"}) == [Message("user", "fine")]
    deadline = time.monotonic() + 5
    while any(t.name == "promptstudio-render" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a render thread kept running"
        time.sleep(0.01)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ joiner.__init__.__globals__.os.popen('id').read() }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ self.__init__.__globals__ }}",
        "{{ ''['__class__'] }}",
        "{{ ''|attr('__class__') }}",
        "{{ '{0.__class__.__mro__}'.format('') }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ xs.append(1) }}",
        "{{ config.items() }}",
    ],
)
def test_ssti_payloads_are_refused(source: str) -> None:
    with pytest.raises(TemplateError) as caught:
        render_messages(f"user:\n{source}", {"xs": []})
    assert caught.value.line == 2


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'x' * 10**9 }}",
        "{{ ['x'] * 10**9 }}",
        "{{ 7 ** (10 ** 9) }}",
        "{{ 'x'|center(10**9) }}",
        "{{ 'x'.ljust(10**9) }}",
        "{{ 'a\nb'|indent(10**8) }}",
        "{{ 'ab'|replace('', 'x' * 900000) }}",
        "{{ ','.join(['x' * 900000] * 9) }}",
        "{{ (['x' * 900000] * 9)|join }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ '%0999999999d'|format(1) }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ '{:>{}}'.format(1, 10**9) }}",
        "{{ '%s' * 1000 % (('x' * 900000,) * 1000) }}",
        "{{ lipsum(10**6) }}",
        "{{ range(10)|list|tojson(indent=10**8) }}",
        "{{ [1]|batch(10**9, 0)|list }}",
        "{% for i in range(10**6) %}{% for j in range(10**6) %}x{% endfor %}{% endfor %}",
        "{% macro d(s) %}{{ d(s ~ s) }}{% endmacro %}{{ d('x') }}",
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
        "{% endfor %}",
    ],
)
def test_huge_operations_are_stopped_before_they_run(source: str) -> None:
    with pytest.raises(RenderLimitExceeded):
        render_messages(source, {}, SHORT)


def test_output_cap() -> None:
    source = "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}"
    # A small cap and a generous deadline, so the cap is what stops it even on a busy machine.
    limits = RenderLimits(max_output_chars=20_000, timeout_seconds=30)
    with pytest.raises(RenderLimitExceeded) as caught:
        render_messages(source, {}, limits)
    assert "output is longer than 20,000 characters" in caught.value.message


def test_recursive_macro_doubling_its_output_is_stopped() -> None:
    source = (
        "{% macro d(n) %}{% if n %}{{ d(n - 1) }}{{ d(n - 1) }}{% else %}xxxx{% endif %}"
        "{% endmacro %}{{ d(60) }}"
    )
    with pytest.raises(RenderLimitExceeded):
        render_messages(source, {}, SHORT)


def test_unbounded_recursion_is_stopped() -> None:
    with pytest.raises(RenderLimitExceeded):
        render_messages("{% macro d(n) %}{{ d(n) }}{% endmacro %}{{ d(1) }}", {}, SHORT)


def test_slow_template_without_output_hits_the_deadline() -> None:
    source = (
        "line one\n{% for i in range(10000) %}{% for j in range(10000) %}"
        "{% for k in range(10000) %}{% endfor %}{% endfor %}{% endfor %}"
    )
    with pytest.raises(RenderLimitExceeded) as caught:
        render_messages(source, {}, RenderLimits(timeout_seconds=0.2))
    assert caught.value.message == "rendering took longer than 0.2 s"
    assert caught.value.line == 2


def test_huge_value_hits_the_output_cap() -> None:
    with pytest.raises(RenderLimitExceeded):
        render_messages("{{ v }}", {"v": "x" * 1_000_001})


def test_large_but_allowed_operations_still_work() -> None:
    limits = RenderLimits(max_output_chars=2_000_000)
    [message] = render_messages("{{ 'ab' * 500000 }}", {}, limits)
    assert len(message.content) == 1_000_000
