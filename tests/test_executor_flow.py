"""streamkit.executor's Flow and Progression: M:N views of a status index, snapshots that round-trip."""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

import pytest

from streamkit.executor import Event, EventStatus, Executor, Flow, Processor, Progression
from streamkit.executor.event import RecordedError


class Task(Event):
    """Fails when its name says so."""

    name: str = "task"
    payload: dict[str, Any] = {}

    async def _invoke(self) -> str:
        if self.name.startswith("bad"):
            msg = f"{self.name} is bad"
            raise ValueError(msg)
        return self.name.upper()


class TaskProcessor(Processor):
    event_type: ClassVar[type[Event]] = Task


class TaskExecutor(Executor):
    processor_type: ClassVar[type[Processor]] = TaskProcessor


async def _ran(names: list[str], *, capacity: int = 100) -> TaskExecutor:
    executor = TaskExecutor(processor_config={"queue_capacity": capacity}, name="audit")
    for name in names:
        await executor.append(Task(name=name, payload={"k": name}))
    await executor.start()
    await executor.forward()
    return executor


def test_an_item_may_be_in_many_progressions() -> None:
    flow = Flow[Event, Progression](name="multi")
    for name in ("high_priority", "api_calls", "team_a"):
        flow.add_progression(Progression(name=name))
    a, b, c = Task(name="a"), Task(name="b"), Task(name="c")
    flow.add_item(a, progressions=["high_priority", "api_calls", "team_a"])
    flow.add_item(b, progressions="team_a")
    flow.add_item(c)
    assert [p.name for p in flow.progressions if a.id in p] == ["high_priority", "api_calls", "team_a"]
    assert [p.name for p in flow.progressions if c.id in p] == []
    team = flow.get_progression("team_a")
    assert team.order == [a.id, b.id] and len(team) == 2 and list(team) == [a.id, b.id]
    team.append(c)
    team.remove(a.id)
    assert team.order == [b.id, c.id] and a in flow.get_progression("api_calls")
    with pytest.raises(KeyError, match=r"is not in progression 'team_a'"):
        team.remove(a)
    assert flow.remove_item(b) is b
    assert team.order == [c.id] and b.id not in flow.items and len(flow.items) == 2
    assert [item.name for item in flow.items] == ["a", "c"] and flow.items[a.id] is a


def test_progressions_that_hold_ids_before_they_join() -> None:
    flow = Flow[Event, Progression](item_type=Task, name="f")
    a, b = Task(name="a"), Task(name="b")
    flow.add_item(a)
    flow.add_item(b)
    prog = flow.add_progression(Progression(name="picked", order=[b, a.id]))
    assert prog.order == [b.id, a.id]
    with pytest.raises(KeyError, match=r"no item with id .* in flow 'f'"):
        flow.add_progression(Progression(name="stray", order=[Task().id]))
    assert "stray" not in flow.progressions
    with pytest.raises(KeyError, match=r"^\"no progression 'pickd' in flow 'f' \(did you mean 'picked'\?\); it has"):
        flow.get_progression("pickd")
    gone = flow.remove_progression("picked")
    assert gone.order == [b.id, a.id] and "picked" not in flow.progressions and b.id in gone


def test_status_progressions_follow_statuses_only() -> None:
    executor = asyncio.run(_ran(["a", "bad", "c"]))
    flow = executor.states
    assert [p.name for p in flow.progressions] == [s.value for s in EventStatus]
    done = flow.get_progression("completed")
    assert done.status is EventStatus.COMPLETED and len(done) == 2
    with pytest.raises(ValueError, match=r"^progression 'completed' is the bucket of a status"):
        done.append(executor.failed_events[0])
    with pytest.raises(ValueError, match=r"is the bucket of a status: an item enters it by having that status"):
        flow.add_item(Task(), progressions=["failed"])
    flow.add_progression(Progression(name="review"))
    flow.get_progression("review").append(executor.failed_events[0])
    assert [executor.states.items[u].name for u in flow.get_progression("review").order] == ["bad"]
    # an item is in exactly one status progression
    for e in flow.items:
        assert sum(e.id in p for p in flow.progressions if p.status is not None) == 1


def test_round_trip_keeps_failed_events_and_statuses() -> None:
    executor = asyncio.run(_ran(["a", "bad_1", "c", "bad_2", "e", "f"], capacity=4))
    executor.states.add_progression(Progression(name="retry", order=executor.failed_events))
    snapshot = json.loads(json.dumps(executor.states.to_dict()))
    flow = Flow.from_dict(snapshot)
    assert flow.name == "audit" and flow.item_type is Task and len(flow.items) == 6
    assert [p.name for p in flow.progressions] == [*(s.value for s in EventStatus), "retry"]
    for original in executor.states.items:
        copy = flow.items[original.id]
        assert type(copy) is Task and copy.name == original.name and copy.payload == {"k": original.name}
        assert copy.status is original.status and isinstance(copy.status, EventStatus)
        assert copy.execution.status is original.execution.status
        assert copy.execution.response == original.execution.response
    failed = [flow.items[u] for u in flow.get_progression("failed").order]
    assert [e.name for e in failed] == ["bad_1", "bad_2"]
    assert isinstance(failed[0].execution.error, RecordedError)
    assert repr(failed[0].execution.error) == "ValueError('bad_1 is bad')"
    assert flow.get_progression("retry").order == [e.id for e in failed]
    assert {p.name: len(p) for p in flow.progressions} == {**executor.status_counts(), "retry": 2}
    assert flow.to_dict() == snapshot  # and round again


def test_a_restored_executor_flow_tracks_its_events() -> None:
    executor = asyncio.run(_ran(["a", "bad"]))
    flow = Flow.from_dict(executor.states.to_dict())
    event = flow.items[executor.completed_events[0].id]
    with pytest.raises(ValueError, match=r"it changes through that executor"):
        event.status = EventStatus.PENDING
    with pytest.raises(ValueError, match=r"is tracked by 'audit' already"):
        asyncio.run(TaskExecutor().append(event))
    flow.remove_item(event)
    asyncio.run(TaskExecutor().append(event))  # free again


def test_a_bad_snapshot_says_where() -> None:
    snapshot = asyncio.run(_ran(["a", "b"])).states.to_dict()
    with pytest.raises(ValueError, match=r"^invalid flow dict: `format` must be 'streamkit.flow'"):
        Flow.from_dict({"items": []})
    wrong = json.loads(json.dumps(snapshot))
    wrong["items"][1]["status"] = "failed"
    with pytest.raises(ValueError, match=r"^invalid flow dict: `progressions\[2\].order\[1\]` must be an item whose"):
        Flow.from_dict(wrong)
    wrong = json.loads(json.dumps(snapshot))
    wrong["progressions"][2]["order"].append("00000000-0000-0000-0000-000000000000")
    with pytest.raises(ValueError, match=r"`progressions\[2\].order\[2\]` must be the id of an item in `items`"):
        Flow.from_dict(wrong)
    wrong = json.loads(json.dumps(snapshot))
    wrong["items"][0]["execution"]["status"] = "done"
    with pytest.raises(ValueError, match=r"`items\[0\].execution.status` must be one of 'pending'"):
        Flow.from_dict(wrong)
    wrong = json.loads(json.dumps(snapshot))
    wrong["item_type"] = None
    wrong["items"][0]["type"] = "nowhere.Missing"
    with pytest.raises(ValueError, match=r"^`items\[0\].type`: no Event subclass 'nowhere.Missing' is defined"):
        Flow.from_dict(wrong)


def test_a_standalone_flow_round_trips_with_its_statuses() -> None:
    flow = Flow[Event, Progression](item_type=Task, name="plain")
    flow.add_progression(Progression(name="x"))
    done = Task(name="done")
    asyncio.run(done.invoke())
    flow.add_item(done, progressions="x")
    flow.add_item(Task(name="new"))
    copy = Flow.from_dict(flow.to_dict())
    assert [p.name for p in copy.progressions] == ["x"]
    assert [(e.name, e.status) for e in copy.items] == [("done", EventStatus.COMPLETED), ("new", EventStatus.PENDING)]
    assert copy.items[done.id].response == "DONE"


def test_items_and_progressions_read_like_collections() -> None:
    flow = Flow[Event, Progression](name="f")
    e = Task()
    flow.add_item(e)
    assert e in flow and e.id in flow.items and str(e.id) in flow.items and len(flow) == 1
    assert flow.items.get("not a uuid") is None and flow.items.get(Task().id, "none") == "none"
    with pytest.raises(KeyError, match=r"no item with id"):
        flow.items[Task().id]
    with pytest.raises(TypeError, match=r"an item of flow 'f' needs a UUID `id`, got 3"):
        flow.add_item(3)
    p = flow.add_progression(Progression(name="p"))
    assert p in flow.progressions and "p" in flow.progressions and flow.progressions["p"] is p
    assert repr(flow) == "Flow('f', 1 items, 1 progressions)" and repr(p) == "Progression('p', 0 items, tag)"
