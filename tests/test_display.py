"""Diagrams (Mermaid, DOT, pure-Python SVG) and notebook views (`_repr_html_`): content, escaping, geometry, bounds."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from streamkit import AsyncSimpleFSM, CompiledNetwork, RunHandle, SimpleFSM, StatusIndex
from streamkit.display import Diagram, DiagramArc, DiagramNetwork, DiagramState, to_svg
from streamkit.display.html import escape, table_html
from streamkit.display.layout import Box
from streamkit.display.text import mermaid_escape
from streamkit.events import EventBase
from streamkit.runtime.jobs import JobContext

pytestmark = pytest.mark.usefixtures("kernel_cache_dir")

SVG = "{http://www.w3.org/2000/svg}"
LONG = "lambda state: state.data['a'] < 10 and state.data.get('tag', '<&>') != 'x' and state.data['b'] > 3"


class Notify(EventBase):
    def process(self, data: Any) -> Any:
        return True, data


def config() -> dict[str, Any]:
    """Every kind of state and arc: kernel, python and event states, conditions, priorities, a cycle, a self-loop."""
    return {
        "name": "shop",
        "networks": [
            {
                "name": "main",
                "states": [
                    {"name": "in", "is_start": True},
                    {
                        "name": "price",
                        "functions": {"transform": "lambda state: {**state.data, 'p': state.data['a'] * 2}"},
                    },
                    {
                        "name": "stamp",
                        "functions": {"transform": "lambda state: {**state.data, 't': __import__('time').time()}"},
                    },
                    {"name": "notify", "event": Notify},
                    {"name": "big", "is_end": True},
                    {"name": 'small <&> "end"', "is_end": True},
                ],
                "arcs": [
                    {"from": "in", "to": "price"},
                    {"from": "price", "to": "big", "condition": "lambda state: state.data['p'] > 100", "priority": 5},
                    {"from": "price", "to": "stamp", "condition": LONG, "priority": 2},
                    {"from": "price", "to": "price", "condition": "lambda state: state.data['p'] < 0"},
                    {"from": "price", "to": "notify"},
                    {"from": "stamp", "to": "in"},
                    {"from": "notify", "to": 'small <&> "end"', "on": "success"},
                    {"from": "notify", "to": "big", "on": "failure"},
                ],
            }
        ],
    }


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def origin(net: ET.Element) -> tuple[float, float]:
    """Where a network's drawing starts: its frame's translation plus that of the states below its title."""
    dx, dy = map(float, re.findall(r"[-\d.]+", net.get("transform", ""))[:2])
    inner = next(g for g in net if g.tag == f"{SVG}g")
    return dx, dy + float(re.findall(r"[-\d.]+", inner.get("transform", ""))[1])


def state_boxes(svg: str) -> dict[str, Box]:
    """The outer box of each state, by name (the state's first text line), in absolute coordinates."""
    root = ET.fromstring(svg)
    out = {}
    for net in root.iter(f"{SVG}g"):
        if net.get("class") != "network":
            continue
        dx, dy = origin(net)
        inner = next(g for g in net if g.tag == f"{SVG}g")
        for g in inner:
            if g.get("class") == "state":
                rect = g.find(f"{SVG}rect")
                name = g.find(f"{SVG}title")
                assert rect is not None and name is not None
                x, y = float(rect.get("x", 0)) + dx, float(rect.get("y", 0)) + dy
                key = f"{id(net)}:{(name.text or '').split(':')[0]}"
                out[key] = Box(x, y, float(rect.get("width", 0)), float(rect.get("height", 0)))
    return out


def assert_no_overlap(boxes: dict[str, Box]) -> None:
    items = list(boxes.items())
    for i, (a, ba) in enumerate(items):
        for b, bb in items[i + 1 :]:
            assert not ba.overlaps(bb), f"{a} overlaps {b}: {ba} {bb}"


# -- Mermaid and DOT --------------------------------------------------------------------


def test_mermaid_shows_every_state_with_its_backend_and_every_arc_with_condition_and_priority() -> None:
    text = SimpleFSM(config()).to_mermaid()
    unescaped = text.replace("#62;", ">").replace("#60;", "<").replace("#38;", "&").replace("#quot;", '"')
    for line in ["in<br/>kernel: routing", "price<br/>kernel", "stamp<br/>python", "notify<br/>event: Notify"]:
        assert line in unescaped
    assert 'small <&> "end"<br/>kernel: routing' in unescaped
    assert '|"1: p > 100 [p=5]"|' in unescaped
    assert "2: a < 10 and get('tag', '<&>') != 'x' and…" in unescaped and "[p=2]" in unescaped
    assert '|"3: p < 0"|' in unescaped and '|"4: else"|' in unescaped
    assert '|"on failure"|' in unescaped
    assert len(re.findall(r"-->", text)) == 8
    assert "(([" not in text and "([" in text  # the start state is a stadium
    assert text.count(":::end_state") == 2 and text.count(":::start") == 1
    # nothing a user wrote reaches Mermaid unescaped
    assert "<&>" not in text and '"end"' not in text


def test_mermaid_escape_leaves_no_character_that_ends_a_label() -> None:
    assert set(mermaid_escape('a"b|c<d>e&f#g`h')) & set('"|<>`') == set()


def test_dot_shows_states_arcs_start_end_and_full_conditions() -> None:
    dot = SimpleFSM(config()).to_dot()
    assert dot.startswith('digraph "shop" {') and dot.rstrip().endswith("}")
    assert 'label="stamp\\npython"' in dot and 'label="notify\\nevent: Notify"' in dot
    assert 'label="small <&> \\"end\\"\\nkernel: routing"' in dot
    assert 'label="1: p > 100 [p=5]"' in dot
    assert f"when {LONG} (priority 2)" in dot  # the full condition as the tooltip
    assert dot.count("peripheries=2") == 2 and dot.count("penwidth=2.5") == 1
    assert len(re.findall(r'"n0s\d" -> "n0s\d"', dot)) == 8
    assert dot.count("{") == dot.count("}")


def test_every_network_of_a_config_is_a_subgraph_and_only_main_runs() -> None:
    cfg = config()
    cfg["networks"].append(
        {
            "name": "archive",
            "states": [{"name": "a", "is_start": True}, {"name": "z", "is_end": True}],
            "arcs": [{"from": "a", "to": "z", "condition": lambda state: True}],
        }
    )
    cfg["main_network"] = "main"
    fsm = SimpleFSM(cfg)
    mermaid, dot, svg = fsm.to_mermaid(), fsm.to_dot(), fsm.to_svg()
    assert (
        mermaid.count("subgraph") == 2
        and 'subgraph n1["archive (not run: main_network is #39;main#39;)"]' not in mermaid
    )
    assert "archive (not run: main_network is 'main')" in mermaid
    assert 'subgraph "cluster_1"' in dot and "a\\npython" in dot  # a callable condition runs as Python
    found = texts(svg)
    assert "main (main network)" in found and "archive (not run: main_network is 'main')" in found
    assert {"a", "z", "in", "big"} <= set(found)
    assert_no_overlap(state_boxes(svg))


# -- SVG ---------------------------------------------------------------------------------


def test_svg_parses_and_holds_every_state_and_arc_label() -> None:
    fsm = SimpleFSM(config())
    svg = fsm.to_svg()
    found = texts(svg)
    for name in ["in", "price", "stamp", "notify", "big", 'small <&> "end"']:
        assert name in found
    labels = [a.label for a in fsm.network.diagram().networks[0].arcs if a.label]
    assert labels == [
        "1: p > 100 [p=5]",
        "2: a < 10 and get('tag', '<&>') != 'x' and… [p=2]",
        "3: p < 0",
        "4: else",
        "on success",
        "on failure",
    ]
    for label in labels:
        assert label in found
    assert "<&>" not in svg and "&lt;&amp;&gt;" in svg  # escaped in the text, whole when parsed
    titles = [t.text for t in ET.fromstring(svg).iter(f"{SVG}title")]
    assert any(t and LONG in t for t in titles)  # the full condition is the arc's tooltip
    assert_no_overlap(state_boxes(svg))


def test_svg_draws_cycles_up_and_self_loops_beside_the_box() -> None:
    svg = SimpleFSM(config()).to_svg()
    root = ET.fromstring(svg)
    arcs = {
        re.split(r" when | \(priority", g.find(f"{SVG}title").text or "")[0]: g
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "arc"
    }  # type: ignore[union-attr]
    boxes = {k.split(":", 1)[1]: b for k, b in state_boxes(svg).items()}

    dx, dy = origin(next(g for g in root.iter(f"{SVG}g") if g.get("class") == "network"))

    def path_points(key: str) -> list[tuple[float, float]]:
        d = arcs[key].find(f"{SVG}path").get("d", "")  # type: ignore[union-attr]
        nums = list(map(float, re.findall(r"-?\d+(?:\.\d+)?", d)))
        return [(x + dx, y + dy) for x, y in zip(nums[::2], nums[1::2])]

    back = path_points("stamp -> in")  # closes the cycle in -> price -> stamp -> in: drawn upwards
    assert back[0][1] > back[-1][1]
    assert boxes["stamp"].y > boxes["in"].y
    loop = path_points("price -> price")
    assert min(x for x, _ in loop) >= boxes["price"].right - 0.5  # beside the box, not through it
    down = path_points("in -> price")
    assert down[0][1] < down[-1][1]


def test_svg_escapes_long_labels_and_characters_xml_cannot_hold() -> None:
    name = "<script>alert('x')</script>&\x01" + "y" * 200
    net = DiagramNetwork(
        "n",
        (DiagramState(name, "python", is_start=True), DiagramState("end", "kernel", is_end=True)),
        (DiagramArc(name, "end", "lambda state: state.data['x'] < '<&>' " + "or True " * 40, priority=3),),
    )
    svg = to_svg(Diagram("t <&>", (net,)))
    root = ET.fromstring(svg)  # parses: nothing raw
    assert "<script>" not in svg
    found = texts(svg)
    assert any(t.startswith("<script>alert('x')</script>&\\x01y") and t.endswith("…") for t in found)
    assert all(len(t) <= 90 for t in found)
    label = next(t for t in found if t.startswith("x < '<&>'"))
    assert label.endswith("… [p=3]") and len(label) == 46
    assert root.find(f"{SVG}title").text == "t <&>"  # type: ignore[union-attr]


def test_a_random_network_of_50_states_lays_out_without_overlaps() -> None:
    rng = random.Random(7)
    n = 50
    names = [f"s{i}" for i in range(n)]
    arcs = [(f"s{rng.randrange(i)}", f"s{i}") for i in range(1, n)]  # every state reachable
    arcs += [(rng.choice(names), rng.choice(names)) for _ in range(40)]  # cycles, self-loops, long jumps
    states = tuple(DiagramState(s, rng.choice(["kernel", "python", "event"]), is_start=s == "s0") for s in names)
    diagram_arcs = tuple(DiagramArc(s, t, f"lambda state: state.data['v'] == {i}") for i, (s, t) in enumerate(arcs))
    svg = to_svg(Diagram("random", (DiagramNetwork("main", states, diagram_arcs),)))
    found = texts(svg)
    assert set(names) <= set(found)
    assert all(f"v == {i}" in found for i in range(len(arcs)))
    boxes = state_boxes(svg)
    assert len(boxes) == n
    assert_no_overlap(boxes)
    root = ET.fromstring(svg)
    width, height = float(root.get("width", 0)), float(root.get("height", 0))
    assert all(b.x >= 0 and b.y >= 0 and b.right <= width and b.bottom <= height for b in boxes.values())


def test_pipelines_and_async_networks_draw_too() -> None:
    a = SimpleFSM(
        {
            "name": "clean",
            "networks": [
                {
                    "name": "main",
                    "states": [
                        {"name": "in", "is_start": True},
                        {"name": "ok", "is_end": True},
                        {"name": "no", "is_end": True},
                    ],
                    "arcs": [
                        {"from": "in", "to": "ok", "condition": "lambda state: state.data['x'] > 0"},
                        {"from": "in", "to": "no"},
                    ],
                }
            ],
        }
    )
    b = AsyncSimpleFSM(config())
    assert b.to_mermaid() == SimpleFSM(config()).to_mermaid()
    p = a | SimpleFSM(config())
    mermaid = p.to_mermaid()
    assert mermaid.count("subgraph") == 2 and mermaid.count("-.->|completed|") == 2  # ok and no feed the next stage
    svg = p.to_svg()
    assert sum(1 for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("class") == "link") == 2
    assert_no_overlap(state_boxes(svg))
    assert "<svg" in p._repr_html_() and "clean" in p._repr_html_()


# -- results -----------------------------------------------------------------------------


def test_result_svg_labels_states_with_this_runs_counts() -> None:
    fsm = SimpleFSM(
        {
            "networks": [
                {
                    "name": "main",
                    "states": [
                        {
                            "name": "in",
                            "is_start": True,
                            "functions": {"transform": "lambda state: {'y': 10 // state.data['x']}"},
                        },
                        {"name": "big", "is_end": True},
                        {"name": "small", "is_end": True},
                    ],
                    "arcs": [
                        {"from": "in", "to": "big", "condition": "lambda state: state.data['y'] > 3"},
                        {"from": "in", "to": "small"},
                    ],
                }
            ]
        }
    )
    r = fsm.process([{"x": 1}, {"x": 2}, {"x": 5}, {"x": 0}, {"x": None}])
    found = texts(r.to_svg())
    assert "completed: 2" in found and "completed: 1" in found  # big: 10, 5; small: 2
    assert "failed: 2" in found
    assert "failed: 2" in r.to_mermaid()


def test_a_result_from_no_network_has_no_diagram() -> None:
    r = SimpleFSM(config()).process([{"a": 1}])
    r._stages = []
    with pytest.raises(ValueError, match=r"^this result has no network to draw"):
        r.to_svg()


def test_result_html_shows_counts_and_first_rows_escaped() -> None:
    fsm = SimpleFSM(
        {
            "networks": [
                {
                    "name": "main",
                    "states": [
                        {
                            "name": "in",
                            "is_start": True,
                            "functions": {"transform": "lambda state: {**state.data, 'y': 1 // state.data['x']}"},
                        },
                        {"name": "out", "is_end": True},
                    ],
                    "arcs": [{"from": "in", "to": "out"}],
                }
            ]
        }
    )
    records = [{"x": 1, "note": "<script>alert(1)</script>"}] * 7 + [{"x": 0, "note": "<b>bad</b>"}]
    r = fsm.process(records)
    html = r._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bad</b>" not in html and "&lt;b&gt;bad&lt;/b&gt;" in html  # the failed record's field, escaped
    assert html.count("&lt;script&gt;") == 5  # the first five rows of the output
    assert "2 more rows" in html and "ZeroDivisionError" in html
    assert re.search(r">records</th><td[^>]*>8<", html) and re.search(r">failed</th><td[^>]*>1<", html)
    assert "records/s" in html and "duration" in html
    assert "<script" not in html.lower().replace("&lt;script", "")
    assert "RunResult(total_records=8" in repr(r)


def test_result_html_is_small_for_a_million_rows() -> None:
    fsm = SimpleFSM(
        {
            "networks": [
                {
                    "name": "main",
                    "states": [{"name": "in", "is_start": True}, {"name": "out", "is_end": True}],
                    "arcs": [{"from": "in", "to": "out"}],
                }
            ]
        }
    )
    n = 1_000_000
    r = fsm.process(pa.table({"id": pa.array(range(n), pa.int64()), "text": pa.array(["x" * 500] * n)}))
    assert r.successful == n
    html = r._repr_html_()
    assert len(html) < 20_000
    assert "999,995 more rows" in html and "1,000,000" in html


def test_result_html_names_outputs_that_went_to_files(tmp_path: Any) -> None:
    fsm = SimpleFSM(config())
    r = fsm.process_stream([{"a": 1}, {"a": 90}], sinks={"big": str(tmp_path / "out-big.jsonl")})
    html = r._repr_html_()
    assert "written to" in html and "out-big.jsonl" in html


# -- status index and run handles ----------------------------------------------------------


def test_status_index_html_counts_and_tags() -> None:
    index = StatusIndex()
    index.add(range(10))
    index.transition([1, 2, 3], "failed")
    index.tag([1, 2], "<retry>")
    html = index._repr_html_()
    assert re.search(r">pending</th><td[^>]*>7<", html) and re.search(r">failed</th><td[^>]*>3<", html)
    assert "&lt;retry&gt;" in html and "<retry>" not in html
    assert re.search(r"&lt;retry&gt;</th><td[^>]*>2<", html)
    assert "70.0%" in html and "30.0%" in html
    assert repr(index) == "StatusIndex(total=10, pending=7, failed=3)"


def test_run_handle_html_shows_id_kind_status_times_and_progress() -> None:
    h = RunHandle("run-<1>")
    h._start()
    h._finish("failed", error="ValueError: <script>x</script>")
    html = h._repr_html_()
    assert "run-&lt;1&gt;" in html and "<script>" not in html and "ValueError: &lt;script&gt;" in html
    assert ">failed</span>" in html and ">run</td>" in html
    assert str(h.started_at.year) in html and "elapsed" in html  # type: ignore[union-attr]
    job = JobContext("j1", "w1", "<flow>")
    job.started_at = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    html = job._repr_html_()
    assert ">job</td>" in html and "&lt;flow&gt;" in html and "2024-01-02 03:04:05.000+00:00" in html
    assert ">pending</span>" in html


def test_network_html_has_the_svg_inline_and_a_summary() -> None:
    fsm = SimpleFSM(config())
    html = fsm._repr_html_()
    assert (
        "<svg" in html
        and "<script" not in html
        and "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert "6 (" in html and "1 python" in html and "1 event" in html and "4 kernel" in html
    assert "SimpleFSM(&#x27;shop&#x27;, states=6)" in html
    assert CompiledNetwork(config())._repr_html_().count("<svg") == 1


def test_tables_are_bounded_in_rows_columns_and_characters() -> None:
    t = pa.table({f"c{i}": ["v" * 500] * 3 for i in range(30)})
    html = table_html(t, max_rows=2)
    assert html.count("<tr>") == 3 and "18 more columns" in html and "1 more rows" in html
    assert "v" * 60 not in html and "v" * 59 + "…" in html
    assert escape('"') == "&quot;"
