"""The layout's promises, checked from outside: pure packages load no I/O libraries,
the client loads no server side, and no module imports itself round a cycle.

(The layer and forbidden-import contracts themselves run in `make lint`, via
import-linter; these tests prove what that static analysis cannot: what a
fresh interpreter really loads.)
"""

from __future__ import annotations

import json
import subprocess
import sys

import grimp
import pytest

from tests.support.paths import ROOT

#: What a pure package must never load, directly or through anything it imports.
IO_MODULES = ("aiohttp", "asyncio", "asyncio.base_events", "redis", "prometheus_client", "jwt")

PURE = [
    "ticker.util.backoff", "ticker.util.clock", "ticker.util.log_limit", "ticker.util.errors",
    "ticker.core.model", "ticker.core.batch", "ticker.core.table", "ticker.core.ingest",
    "ticker.core.encode", "ticker.core.hub", "ticker.core.outbox", "ticker.core.slow_consumer",
    "ticker.core.stats",
    "ticker.protocol.requests", "ticker.protocol.replies", "ticker.protocol.session",
    "ticker.protocol.codes", "ticker.protocol.errors", "ticker.protocol.frames",
    "ticker.security.tokens", "ticker.security.entitlements", "ticker.security.access",
    "ticker.security.limits", "ticker.security.admission",
    "ticker.config", "ticker.config.loader", "ticker.config.render",
]  # fmt: skip


def loaded_after_import(module: str) -> set[str]:
    """The modules a fresh interpreter holds after ``import module``."""
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT, check=True
    )
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_loads_no_io_library(module: str) -> None:
    loaded = loaded_after_import(module)
    assert not loaded & set(IO_MODULES), f"{module} loads {sorted(loaded & set(IO_MODULES))}"


def test_the_python_client_loads_no_numpy_and_no_server_side() -> None:
    loaded = loaded_after_import("ticker.client")
    server_side = {m for m in loaded if m.split(".")[:2] in (
        ["ticker", "server"], ["ticker", "runtime"], ["ticker", "bus"], ["ticker", "observability"],
    ) or m.split(".")[0] == "feeds"}  # fmt: skip
    assert "numpy" not in loaded and not server_side, sorted(server_side)
    assert "prometheus_client" not in loaded and "redis" not in loaded


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    modules = sorted(m for m in graph.modules if m.split(".")[0] in ("ticker", "feeds"))
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & set(modules)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    component.append(m)
                    if m == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_itself_round_a_cycle_not_even_for_type_checking() -> None:
    graph = grimp.build_graph("ticker", "feeds", exclude_type_checking_imports=False)
    assert _cycles(graph) == []
