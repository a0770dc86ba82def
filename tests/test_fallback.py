"""The Python fallback: it warns once per state, and ``explain()`` says exactly what ran where."""

from __future__ import annotations

import re
import warnings
from collections import Counter
from typing import Any

import pytest

import streamkit.fsm.plans.kernel as kernel_plan
import streamkit.fsm.plans.python as python_plan
from streamkit import PerformanceWarning, SimpleFSM

CFG = {
    "networks": [
        {
            "name": "main",
            "states": [
                {
                    "name": "double",
                    "is_start": True,
                    "transform": "lambda state: {**state.data, 'y': state.data['x'] * 2}",
                },
                {"name": "ratio", "transform": "lambda state: {**state.data, 'r': state.data['y'] / 3}"},
                {
                    "name": "stamp",
                    "transform": "lambda state: {**state.data, 'first': sorted([state.data['y'], 7])[0]}",
                },
                {"name": "out", "is_end": True},
            ],
            "arcs": [
                {"from": "double", "to": "ratio"},
                {"from": "ratio", "to": "stamp"},
                {"from": "stamp", "to": "out"},
            ],
        }
    ]
}


def test_a_state_outside_the_subset_warns_once_naming_state_and_construct() -> None:
    fsm = SimpleFSM(CFG)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fsm.process([{"x": 1}])
        fsm.process([{"x": 2}, {"x": 3.5}])  # a new typing of the input: a new plan, no new warning
    messages = [str(w.message) for w in seen if issubclass(w.category, PerformanceWarning)]
    assert messages == [
        "state 'stamp' of network 'main' runs as per-record Python (compiled states run ~100x "
        "faster): transform: unsupported construct `sorted([state.data['y'], 7])` at line 1"
    ]
    with pytest.warns(PerformanceWarning, match="state 'stamp'"):
        SimpleFSM(CFG).process([{"x": 1}])  # another network: its own warning


def test_explain_says_what_ran_where(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: Counter[tuple[str, str]] = Counter()
    escaped: Counter[str] = Counter()

    def spy(cls: Any) -> None:
        real = cls.run

        def run(self: Any, group: Any, ctx: Any) -> Any:
            name = ctx.state_names[group.state]
            before = getattr(self, "escaped", 0)
            out = real(self, group, ctx)
            if self.reason is None or not self.reason.startswith("rows whose"):  # escapes are counted apart
                ran[(name, self.backend)] += group.n
            escaped[name] += getattr(self, "escaped", 0) - before
            return out

        monkeypatch.setattr(cls, "run", run)

    spy(kernel_plan.KernelPlan)
    spy(python_plan.PythonPlan)
    fsm = SimpleFSM(CFG)
    # 2**53 + 1 times 2 is an int a float cannot hold: its division escapes to Python
    fsm.process([{"x": 1}, {"x": 2**53 + 1}, {"x": 4}])
    fsm.process([{"x": 0.5}])
    text = fsm.explain()
    told: Counter[tuple[str, str]] = Counter()
    told_escaped: Counter[str] = Counter()
    state = ""
    for line in text.splitlines():
        m = re.match(r"  (\w+)", line)
        if m and not line.startswith("    "):
            state = m.group(1)
        m = re.match(r"    ran: (\w+) over ([\d,]+) records", line)
        if m:
            told[(state, m.group(1))] += int(m.group(2).replace(",", ""))
            e = re.search(r"; ([\d,]+) escaped", line)
            told_escaped[state] += int(e.group(1).replace(",", "")) if e else 0
    assert told == ran, text
    # the fused kernel of double and ratio escapes the big row; Python runs double for it, and ratio's
    # own kernel (one row, from Python) escapes it again
    assert +told_escaped == +escaped and (escaped["double"], escaped["ratio"]) == (1, 1), text
    assert ("stamp", "python") in told and ("double", "numba") in told
