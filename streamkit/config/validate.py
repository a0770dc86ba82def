"""Validate a raw FSM config (the seed 002 dict format) and build its typed form.

:func:`build_config` walks the whole config once, recording every problem with its
path (``networks[0].arcs[3].to``), and raises :class:`~streamkit.errors.ConfigError`
listing them in walk order: in every mapping, close typos among its unknown keys
first, then its known keys in a fixed order (top level ``name``, ``networks``,
``main_network``; network ``name``, ``states``, ``arcs``, then the graph). Only a
config without problems is built.

- An optional key whose value is ``None`` counts as absent (YAML ``condition:``).
- ``description``, ``metadata``, ``data_mode``, ``resources``, ``settings`` are
  ignored anywhere; so is any other unknown key that is not a close typo.
- Graph checks run only on a sound structure, so one mistake does not cascade.
  Arcs leaving an end state are allowed but not followed for reachability.
"""

from __future__ import annotations

import ast
import importlib
import pickle
import re
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from streamkit.config.model import ArcConfig, EventSpec, FSMConfig, FunctionSpec, NetworkConfig, StateConfig
from streamkit.errors import ConfigError, ConfigProblem, did_you_mean
from streamkit.events.base import DefaultExecutor, EventBase, is_event
from streamkit.events.policy import EventExecutionEvaluationState

__all__ = ("build_config",)

_HARMLESS = frozenset({"description", "metadata", "data_mode", "resources", "settings"})
_TOP_KEYS = ("name", "main_network", "networks")
_NETWORK_KEYS = ("name", "states", "arcs")
_STATE_KEYS = ("name", "is_start", "is_end", "functions", "transform", "event", "evaluation", "result_field")
_FUNCTIONS_KEYS = ("transform",)
_ARC_KEYS = ("from", "to", "condition", "priority", "on")
_ON_WORDS = ("success", "failure")
_SPEC_KEYS = ("type", "code", "name")
_SPEC_TYPES = ("inline", "registered", "function", "custom")
_LAMBDA = "'lambda state: ...'"
_SPEC_FORMS = (
    f"a function spec ({{'type': 'inline', 'code': {_LAMBDA}}}, {_LAMBDA}, the name of "
    "a registered function, a callable or a polars expression)"
)
_MISSING: Any = object()
_LIST = (list, tuple)
_NEWLINE = re.compile(r"\r\n?|\n")
_LAMBDA_PREFIX = re.compile(r"lambda\b")
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def build_config(raw: Any, *, functions: Mapping[str, Callable[..., Any]] | None = None) -> FSMConfig:
    """Validate ``raw`` as a whole and build the typed config.

    Parameters
    ----------
    raw:
        The seed 002 dict (``name``, ``main_network``, ``networks``), e.g. as
        loaded from YAML or JSON. It is kept as :attr:`FSMConfig.raw`.
    functions:
        Named functions that specs may refer to: a string naming one, or
        ``{"type": "registered" | "function" | "custom", "name": ...}``.

    Raises
    ------
    ConfigError
        Listing every problem found, each with its path. Malformed input of any
        shape raises this, never another exception.
    """
    validator = _Validator(dict(functions or {}))
    config = validator.fsm(raw)
    if validator.problems or config is None:
        raise ConfigError(validator.problems or [ConfigProblem("", "invalid config")])
    return config


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _named(path: str, name: Any) -> str:
    """A state's path with its name, once it has a usable one: ``networks[0].states[1] 'validate'``."""
    return f"{path} {name!r}" if isinstance(name, str) and name else path


def _type_name(value: Any) -> str:
    return type(value).__name__


def _is_polars_expr(value: Any) -> bool:
    """Whether ``value`` is a polars expression; never imports polars itself."""
    expr_type = getattr(sys.modules.get("polars"), "Expr", None)
    return isinstance(expr_type, type) and isinstance(value, expr_type)


def _snippet(text: str, limit: int = 40) -> str:
    """``text`` on one line, cut to about ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _syntax_message(exc: SyntaxError, code: str, lead: int) -> str:
    """``invalid syntax at line N: <line> (<msg>)``, N counted in ``code`` as given."""
    detail = f" ({exc.msg})" if exc.msg and exc.msg != "invalid syntax" else ""
    if not exc.lineno:
        return f"invalid syntax{detail}"
    lines = _NEWLINE.split(code)
    n = min(max(exc.lineno + lead, 1), len(lines))
    return f"invalid syntax at line {n}: {lines[n - 1].strip()}{detail}"


class _Validator:
    """One walk over a raw config: records problems and builds the typed objects.

    Methods return the built object, with ``None`` in fields that are invalid,
    or ``None`` when the value is unusable; :func:`build_config` only hands the
    result out when no problem was recorded.
    """

    def __init__(self, functions: dict[str, Any]) -> None:
        self.functions = functions
        self.problems: list[ConfigProblem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(ConfigProblem(path, message))

    def check_type(self, value: Any, path: str, types: type | tuple[type, ...], what: str) -> bool:
        if isinstance(value, types):
            return True
        self.problem(path, f"expected {what}, got {_type_name(value)}")
        return False

    def keys(self, raw: Mapping[Any, Any], path: str, known: tuple[str, ...]) -> None:
        """Report unknown keys that are close typos of a known key."""
        for key in raw:
            if not isinstance(key, str) or key in known or key in _HARMLESS:
                continue
            hint = did_you_mean(key, known, cutoff=0.8)
            if hint:
                self.problem(_join(path, key), f"unknown key{hint}")

    def get(self, raw: Mapping[Any, Any], key: str, path: str, *, required: bool = False) -> Any:
        """The value at ``key``; ``_MISSING`` if absent (or ``None`` and optional)."""
        value = raw.get(key, _MISSING)
        if value is None and not required:
            value = _MISSING
        if value is _MISSING and required:
            self.problem(_join(path, key), "missing required key")
        return value

    def string(self, raw: Mapping[Any, Any], key: str, path: str, *, required: bool = True) -> Any:
        """A non-empty string at ``key``, or ``None`` (absent or invalid)."""
        value = self.get(raw, key, path, required=required)
        if value is _MISSING or not self.check_type(value, _join(path, key), str, "a string"):
            return None
        if not value:
            self.problem(_join(path, key), "expected a non-empty string, got ''")
            return None
        return value

    def flag(self, raw: Mapping[Any, Any], key: str, path: str) -> Any:
        """A bool at ``key``: ``False`` when absent, ``None`` when invalid."""
        value = self.get(raw, key, path)
        if value is _MISSING:
            return False
        return value if self.check_type(value, _join(path, key), bool, "a bool") else None

    def fsm(self, raw: Any) -> FSMConfig | None:
        if not self.check_type(raw, "", Mapping, "a mapping with 'networks'"):
            return None
        self.keys(raw, "", _TOP_KEYS)
        name = self.string(raw, "name", "", required=False)
        if raw.get("name") is None:
            name = "fsm"
        networks = None
        if raw.get("networks") is None and "states" in raw:
            hint = "states and arcs go in networks: [{name, states, arcs}]"
            self.problem("networks", f"missing required key ({hint})")
        else:
            networks = self.networks(self.get(raw, "networks", "", required=True))
        main = self.main_network(raw, networks)
        if networks is None or None in networks:
            return None
        return FSMConfig(name=name, main_network=main, networks=tuple(networks), raw=raw)

    def networks(self, value: Any) -> list[Any] | None:
        if value is _MISSING or not self.check_type(value, "networks", _LIST, "a list"):
            return None
        if not value:
            self.problem("networks", "expected at least one network, got an empty list")
            return None
        out: list[Any] = []
        seen: dict[str, str] = {}
        for i, item in enumerate(value):
            network = self.network(item, f"networks[{i}]")
            out.append(network)
            if network is None or network.name is None:
                continue
            if network.name in seen:
                message = f"duplicate network {network.name!r} (first at {seen[network.name]})"
                self.problem(f"{network.path}.name", message)
            else:
                seen[network.name] = network.path
        return out

    def main_network(self, raw: Mapping[Any, Any], networks: list[Any] | None) -> Any:
        value = self.get(raw, "main_network", "")
        if value is _MISSING:
            if networks is None:
                return None
            if len(networks) == 1:
                return networks[0].name if networks[0] is not None else None
            required = f"required when there are {len(networks)} networks"
            self.problem("main_network", f"missing required key ({required})")
            return None
        if not self.check_type(value, "main_network", str, "a string"):
            return None
        if networks is not None and all(n is not None and n.name is not None for n in networks):
            names = [n.name for n in networks]
            if value not in names:
                hint = did_you_mean(value, names)
                self.problem("main_network", f"unknown network {value!r}{hint}")
        return value

    def network(self, raw: Any, path: str) -> NetworkConfig | None:
        if not self.check_type(raw, path, Mapping, "a mapping"):
            return None
        self.keys(raw, path, _NETWORK_KEYS)
        name = self.string(raw, "name", path)
        states = None
        value = self.get(raw, "states", path, required=True)
        if value is not _MISSING and self.check_type(value, f"{path}.states", _LIST, "a list"):
            states = self.states(value, f"{path}.states")
        names = None
        if states is not None and all(s is not None and s.name is not None for s in states):
            names = list(dict.fromkeys(s.name for s in states))
        arcs = None
        value = self.get(raw, "arcs", path)
        if value is _MISSING:
            arcs = []
        elif self.check_type(value, f"{path}.arcs", _LIST, "a list"):
            arcs = [self.arc(a, f"{path}.arcs[{i}]", i, names) for i, a in enumerate(value)]
        if states is not None and arcs is not None and names and len(names) == len(states):
            self.graph(states, arcs)
            self.arc_outcomes(states, arcs)
        return NetworkConfig(name, path, tuple(states or ()), tuple(a for a in arcs or () if a is not None))

    def states(self, value: list[Any] | tuple[Any, ...], path: str) -> list[Any]:
        out: list[Any] = []
        seen: dict[str, str] = {}
        for i, item in enumerate(value):
            state = self.state(item, f"{path}[{i}]")
            out.append(state)
            if state is None or state.name is None:
                continue
            if state.name in seen:
                message = f"duplicate state name (first at {seen[state.name]})"
                self.problem(f"{state.path}.name", message)
            else:
                seen[state.name] = state.path
        if all(s is not None and s.is_start is not None and s.is_end is not None for s in out):
            starts = [s.name for s in out if s.is_start]
            if not starts:
                self.problem(path, "no start state (mark one state with is_start: true)")
            elif len(starts) > 1:
                listed = ", ".join(repr(s) for s in starts)
                self.problem(path, f"{len(starts)} start states ({listed}); expected exactly one")
            if not any(s.is_end for s in out):
                self.problem(path, "no end state (mark at least one state with is_end: true)")
        return out

    def state(self, raw: Any, path: str) -> StateConfig | None:
        if not self.check_type(raw, path, Mapping, "a mapping"):
            return None
        named = _named(path, raw.get("name"))  # problems say which state: states[1] 'validate'
        self.keys(raw, named, _STATE_KEYS)
        name = self.string(raw, "name", path)
        if name is not None and "." in name:
            self.problem(f"{path}.name", f"expected a name without '.', got {name!r}")
        path = named
        is_start = self.flag(raw, "is_start", path)
        is_end = self.flag(raw, "is_end", path)
        transform = None
        nested = False
        functions = self.get(raw, "functions", path)
        if functions is not _MISSING and self.check_type(functions, f"{path}.functions", Mapping, "a mapping"):
            self.keys(functions, f"{path}.functions", _FUNCTIONS_KEYS)
            value = self.get(functions, "transform", f"{path}.functions")
            if value is not _MISSING:
                nested = True
                transform = self.spec(value, f"{path}.functions.transform")
        value = self.get(raw, "transform", path)
        if value is not _MISSING and nested:
            message = f"transform given twice (also at {path}.functions.transform)"
            self.problem(f"{path}.transform", message)
        elif value is not _MISSING:
            transform = self.spec(value, f"{path}.transform")
        event = None
        value = self.get(raw, "event", path)
        if value is not _MISSING:
            event = self.event_spec(raw, value, path)
            if transform is not None:
                self.problem(f"{path}.event", "a state runs an event or a transform, not both")
        else:
            for key in ("evaluation", "result_field"):
                if self.get(raw, key, path) is not _MISSING:
                    self.problem(f"{path}.{key}", "only a state with an event takes this key")
        return StateConfig(name, path, is_start, is_end, transform, event)

    def event_spec(self, raw: Mapping[Any, Any], value: Any, path: str) -> EventSpec | None:
        """``event``: one event or a list of them (a parallel group), with ``evaluation`` and ``result_field``."""
        group = isinstance(value, _LIST)
        items = list(value) if group else [value]
        if group and not items:
            self.problem(f"{path}.event", "expected at least one event, got an empty list")
            return None
        events = [
            self.one_event(item, f"{path}.event[{i}]" if group else f"{path}.event") for i, item in enumerate(items)
        ]
        evaluation = None
        value = self.get(raw, "evaluation", path)
        if value is not _MISSING:
            try:
                evaluation = EventExecutionEvaluationState.of(value)
            except ValueError as exc:
                self.problem(f"{path}.evaluation", str(exc))
        elif events and events[0] is not None:
            try:
                evaluation = type(events[0]).evaluation()
            except ValueError as exc:
                self.problem(f"{path}.event", f"execution_evaluation_state: {exc}")
        result_field = self.string(raw, "result_field", path, required=False)
        if any(e is None for e in events):
            return None
        return EventSpec(
            tuple(events), evaluation or EventExecutionEvaluationState.default(), f"{path}.event", result_field
        )

    def one_event(self, item: Any, path: str) -> EventBase | None:
        """An event instance from a class, an instance, an ``@event`` function, a name or ``'module:name'``."""
        obj = item
        if isinstance(item, str):
            obj = self.imported_event(item, path)
            if obj is None:
                return None
        if isinstance(obj, EventBase):
            ev = obj
        elif is_event(obj):
            try:
                ev = obj()
            except Exception as exc:  # noqa: BLE001 - reported as the config's problem
                self.problem(path, f"cannot create event {obj.__name__}: {type(exc).__name__}: {exc}")
                return None
        else:
            got = f"{_type_name(obj)} {getattr(obj, '__name__', '')}".strip()
            hint = " (decorate the function with @event)" if callable(obj) else ""
            expected = "an EventBase subclass or instance, an @event function or 'module:name'"
            self.problem(path, f"expected {expected}, got {got}{hint}")
            return None
        cls = type(ev)
        for what, check in (("retry_policy", cls.policy), ("executor_config", cls.pool_config)):
            try:
                check()
            except (TypeError, ValueError) as exc:
                self.problem(f"{path} {cls.__name__}.{what}", str(exc))
        executor = cls.executor
        if executor is None or executor is DefaultExecutor:
            return ev
        if isinstance(executor, type) and issubclass(executor, ProcessPoolExecutor):
            try:  # a process pool receives the event by pickle: find out now, not mid-run
                pickle.dumps(ev)
            except Exception as exc:  # noqa: BLE001 - reported as the config's problem
                why = f"{type(exc).__name__}: {exc}"
                hint = "define the event at module level, with picklable attributes"
                self.problem(f"{path} {cls.__name__}", f"a ProcessPoolExecutor event must pickle ({why}); {hint}")
        elif not (isinstance(executor, type) and issubclass(executor, ThreadPoolExecutor)):
            expected = "DefaultExecutor, ThreadPoolExecutor or ProcessPoolExecutor (the class)"
            self.problem(f"{path} {cls.__name__}.executor", f"expected {expected}, got {executor!r}")
        return ev

    def imported_event(self, name: str, path: str) -> Any:
        """The object ``'module:name'`` (or a registered function's name) refers to, or ``None`` (a problem)."""
        if ":" not in name:
            if name in self.functions:
                return self.functions[name]
            self.problem(path, f"unknown event {name!r} (expected 'module:name' or a registered name)")
            return None
        module_name, _, attr = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # noqa: BLE001 - reported as the config's problem
            self.problem(path, f"cannot import module {module_name!r}: {type(exc).__name__}: {exc}")
            return None
        obj: Any = module
        for part in attr.split("."):
            if not hasattr(obj, part):
                names = [n for n in dir(module) if not n.startswith("_")]
                self.problem(path, f"module {module_name!r} has no {attr!r}{did_you_mean(part, names)}")
                return None
            obj = getattr(obj, part)
        return obj

    def arc(self, raw: Any, path: str, index: int, names: list[str] | None) -> ArcConfig | None:
        if not self.check_type(raw, path, Mapping, "a mapping"):
            return None
        source, target = raw.get("from"), raw.get("to")
        if isinstance(source, str) and source and isinstance(target, str) and target:
            path = f"{path} {source!r} -> {target!r}"  # problems say which arc: arcs[2] 'a' -> 'b'
        self.keys(raw, path, _ARC_KEYS)
        ends = []
        for key in ("from", "to"):
            ref = self.string(raw, key, path)
            if ref is not None and names is not None and ref not in names:
                hint = did_you_mean(ref, names)
                self.problem(f"{path}.{key}", f"unknown state {ref!r}{hint}")
            ends.append(ref)
        condition = None
        value = self.get(raw, "condition", path)
        if value is not _MISSING:
            condition = self.spec(value, f"{path}.condition")
        priority = self.get(raw, "priority", path)
        if priority is _MISSING:
            priority = 0
        elif not isinstance(priority, int) or isinstance(priority, bool):
            self.problem(f"{path}.priority", f"expected an int, got {_type_name(priority)}")
            priority = 0
        on = self.get(raw, "on", path)
        if on is _MISSING:
            on = None
        elif isinstance(on, bool) or not (on in _ON_WORDS or isinstance(on, int)):
            hint = did_you_mean(on, list(_ON_WORDS)) if isinstance(on, str) else ""
            self.problem(f"{path}.on", f"expected 'success', 'failure' or an int descriptor, got {on!r}{hint}")
            on = None
        return ArcConfig(ends[0], ends[1], path, index, condition, priority, on)

    def arc_outcomes(self, states: list[Any], arcs: list[Any]) -> None:
        """``on`` only on arcs leaving a state with an event; a goto descriptor on one arc per state."""
        by_name = {s.name: s for s in states}
        seen: dict[tuple[str, int], str] = {}
        for a in arcs:
            if a is None or a.on is None or a.source not in by_name:
                continue
            if by_name[a.source].event is None:
                self.problem(f"{a.path}.on", f"state {a.source!r} runs no event: an arc from it takes no 'on'")
                continue
            if isinstance(a.on, int):
                first = seen.setdefault((a.source, a.on), a.path)
                if first != a.path:
                    self.problem(f"{a.path}.on", f"duplicate goto descriptor {a.on} (first at {first})")

    def graph(self, states: list[Any], arcs: list[Any]) -> None:
        """Reachability and outgoing arcs, over uniquely named states."""
        if any(s.is_start is None or s.is_end is None for s in states):
            return
        by_name = {s.name: s for s in states}
        from_ok = all(a is not None and a.source in by_name for a in arcs)
        has_end = any(s.is_end for s in states)  # else "no end state" says it all
        sources = {a.source for a in arcs} if from_ok and has_end else None
        starts = [s.name for s in states if s.is_start]
        reach: set[str] | None = None
        if from_ok and len(starts) == 1 and all(a.target in by_name for a in arcs):
            reach, todo = {starts[0]}, [starts[0]]
            while todo:
                current = todo.pop()
                if by_name[current].is_end:
                    continue
                for a in arcs:
                    if a.source == current and a.target not in reach:
                        reach.add(a.target)
                        todo.append(a.target)
        for s in states:
            if reach is not None and s.name not in reach:
                message = f"unreachable from start state {starts[0]!r}"
                self.problem(s.path, message)
            if sources is not None and not s.is_end and s.name not in sources:
                message = "no outgoing arc, and not an end state"
                self.problem(s.path, message)

    def spec(self, value: Any, path: str) -> FunctionSpec | None:
        """A transform or condition in any of its accepted forms."""
        if isinstance(value, str):
            if _LAMBDA_PREFIX.match(value.strip()):
                return self.inline(value, path)
            if value in self.functions:
                return self.registered(value, path)
            if _DOTTED_NAME.fullmatch(value):
                self.unknown_function(value, path)
            else:
                expected = f"{_LAMBDA} or the name of a registered function"
                self.problem(path, f"expected {expected}, got {_snippet(value)!r}")
            return None
        if isinstance(value, Mapping):
            return self.spec_mapping(value, path)
        if _is_polars_expr(value):
            return FunctionSpec("polars", path, expr=value)
        if callable(value):
            name = getattr(value, "__name__", None)
            return FunctionSpec("callable", path, func=value, name=name)
        self.problem(path, f"expected {_SPEC_FORMS}, got {_type_name(value)}")
        return None

    def spec_mapping(self, raw: Mapping[Any, Any], path: str) -> FunctionSpec | None:
        """``{'type': 'inline', 'code': ...}`` or ``{'type': 'registered', 'name': ...}``."""
        self.keys(raw, path, _SPEC_KEYS)
        kind = self.get(raw, "type", path, required=True)
        if kind is _MISSING or not self.check_type(kind, f"{path}.type", str, "a string"):
            return None
        if kind == "inline":
            code = self.get(raw, "code", path, required=True)
            if code is _MISSING or not self.check_type(code, f"{path}.code", str, "a string"):
                return None
            return self.inline(code, path)
        if kind in _SPEC_TYPES:
            name = self.string(raw, "name", path)
            if name is not None and name not in self.functions:
                self.unknown_function(name, f"{path}.name")
            elif name is not None:
                return self.registered(name, path)
            return None
        hint = did_you_mean(kind, list(_SPEC_TYPES))
        hint = hint or " (expected 'inline', 'registered', 'function' or 'custom')"
        self.problem(f"{path}.type", f"unknown function type {kind!r}{hint}")
        return None

    def unknown_function(self, name: str, path: str) -> None:
        hint = did_you_mean(name, [k for k in self.functions if isinstance(k, str)])
        self.problem(path, f"unknown function {name!r}{hint}")

    def registered(self, name: str, path: str) -> FunctionSpec | None:
        """The spec for ``functions[name]``: a callable or a polars expression."""
        func = self.functions[name]
        if _is_polars_expr(func):
            return FunctionSpec("polars", path, expr=func, name=name)
        if callable(func):
            return FunctionSpec("callable", path, func=func, name=name)
        expected = "a callable or a polars expression"
        self.problem(path, f"expected function {name!r} to be {expected}, got {_type_name(func)}")
        return None

    def inline(self, code: str, path: str) -> FunctionSpec | None:
        """Check that ``code`` parses as ``lambda <one positional parameter>: ...``."""
        text = code.strip()
        if not text:
            self.problem(path, f"expected {_LAMBDA}, got an empty string")
            return None
        lead = len(_NEWLINE.findall(code[: len(code) - len(code.lstrip())]))
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as exc:
            self.problem(path, _syntax_message(exc, code, lead))
            return None
        except (ValueError, RecursionError, MemoryError) as exc:
            self.problem(path, f"cannot parse the code ({type(exc).__name__}: {exc})")
            return None
        if not isinstance(tree.body, ast.Lambda):
            self.problem(path, f"expected {_LAMBDA}, got {_snippet(text)!r}")
            return None
        args = tree.body.args
        n_positional = len(args.posonlyargs) + len(args.args)
        if n_positional != 1 or args.vararg or args.kwonlyargs or args.kwarg or args.defaults:
            params = ast.unparse(args)
            got = f"lambda {params}: ..." if params else "lambda: ..."
            self.problem(path, f"expected {_LAMBDA}, got {got!r}")
            return None
        return FunctionSpec("inline", path, code=code)
