"""The shipped alert rules: valid, unit-tested, and reading only exported series."""

from __future__ import annotations

import re

from tests.support.helpers import running, wait_for
from tests.support.prom import ALERT_TESTS, ALERTS, metric_names, promtool, sample_names, scrape

# Alert expressions, as written in the YAML (single-line or block scalars).
_EXPR = re.compile(r"^\s+expr: (?:\|\n((?:\s{10}.*\n)+)|(.*)\n)", re.M)


def alert_expressions() -> list[str]:
    return [(block or line).strip() for block, line in _EXPR.findall(ALERTS.read_text(encoding="utf-8"))]


def alert_count() -> int:
    return len(re.findall(r"^\s+- alert: \w+$", ALERTS.read_text(encoding="utf-8"), re.M))


def test_promtool_check_rules_accepts_the_alerts() -> None:
    result = promtool("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {alert_count()} rules found" in result.stdout


def test_alert_unit_tests_pass() -> None:
    """Each alert fires on made-up series that should trigger it and not on
    the healthy ones beside them (config/prometheus/alerts_test.yml)."""
    result = promtool("test", "rules", ALERT_TESTS.name, cwd=ALERT_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_alerts_read_only_series_the_service_exports() -> None:
    exprs = alert_expressions()
    assert len(exprs) == alert_count() >= 8
    async with running() as srv:
        # Per-symbol series (last tick age) exist once a symbol has ticked.
        await wait_for(lambda: srv.service.table.seq.any(), timeout=10.0)
        exported = sample_names(await scrape(srv.base))
    for expr in exprs:
        names = metric_names(expr)
        assert names or "up{" in expr, expr
        assert names <= exported, f"{expr}: not exported: {sorted(names - exported)}"
