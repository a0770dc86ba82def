"""Text: building and reading strings in the kernel — ``+``, f-strings and ``str()``, slices, methods.

A string is a span of UTF-8 bytes (:class:`~streamkit.expr.values.Val` ``sb, ss,
se``); new text is written to the row's scratch space by the helpers of
:mod:`kernels.text`. Pieces of a string (slices, stripped or split pieces) are
spans of the very same bytes, never copies. Where only Python knows the exact
answer for a value — case mapping beyond ASCII, a float whose repr needs 16 or
more digits, ``int('x')``'s message — the helper says so and the row escapes to
Python; errors Python raises whatever the value (``None.upper()``, an index out
of range) fail the row here with Python's message.
"""

from __future__ import annotations

from typing import Any

from streamkit._typing import ValueKind
from streamkit.expr import ir
from streamkit.expr.codegen import SCRATCH, CodeGen
from streamkit.expr.parse import STR_METHODS
from streamkit.expr.values import NONE_ONLY, SAMPLE, Val, python_error, python_raises, unsupported

__all__ = ("Text", "CASE_MODES", "PREDICATES")

#: ``t_case`` modes of the case-mapping methods.
CASE_MODES = {"upper": 0, "lower": 1, "casefold": 1, "swapcase": 2, "title": 3, "capitalize": 4}

#: ``t_is`` codes of the predicates.
PREDICATES = {
    "isdigit": 0,
    "isdecimal": 0,
    "isnumeric": 0,
    "isalpha": 1,
    "isalnum": 2,
    "isspace": 3,
    "isupper": 4,
    "islower": 5,
    "istitle": 6,
    "isidentifier": 7,
    "isascii": 8,
}

_INDEX_ERROR = python_raises("'a'[5]")
_LIST_INDEX_ERROR = python_raises("[][0]")


class Text:
    """Emits string operations.

    Parameters
    ----------
    g:
        The generator the code is written to.
    """

    def __init__(self, g: CodeGen) -> None:
        self.g = g

    # -- helpers -----------------------------------------------------------------
    def _lit(self, s: str) -> str:
        """``lb, start, end`` of a literal."""
        a, b = self.g.lit_spans[self.g.lit(s)]
        return f"lb, np.int64({a}), np.int64({b})"

    def _on_str(self, obj: Val, out: Val, what: str, args: tuple[Any, ...], emit: Any) -> Val:
        """Dispatch ``obj``: a string runs ``emit(parts)``, anything else fails as ``a.what(*args)`` would."""
        g = self.g

        def body(ks: list[ValueKind], ps: list[str]) -> None:
            if ks[0] != "str":
                g.fail(*python_raises(f"a.{what}(*args)", a=SAMPLE[ks[0]], args=args))
            else:
                emit(ps[0])

        g.dispatch([obj], body)
        return out

    # -- building text ------------------------------------------------------------
    def concat(self, a: Val, out: Val, pa: str, pb: str) -> None:
        """``a + b`` of two strings, into ``out``.

        When ``a`` is the text the row wrote last (``s + '-' + t``), ``b`` is
        appended to it where it is, instead of both being copied again.
        """
        g = self.g
        if a.sb == SCRATCH:
            start = self._start_with(a, pa)
        else:
            start = g.text_start()
            g.text_call(f"t_put(sc, scn, {pa})")
        g.text_call(f"t_put(sc, scn, {pb})")
        g.assign_text(out, g.text_end(start))

    def _start_with(self, head: Val, put: str) -> str:
        """Start a text with ``head``, a scratch text: where it is if the row wrote it last (what
        follows is appended to it), else a copy (``put``: its ``t_put`` span) at the end of scratch."""
        g = self.g
        start = g.temp("ts")
        with g.block(f"if {head.se} == scn"):
            g.write(f"{start} = {head.ss}")
        with g.block("else"):
            g.write(f"{start} = scn")
            g.text_call(f"t_put(sc, scn, {put})")
        return start

    def format(self, n: ir.Format) -> Val:
        """An f-string, or ``str(x)``: its literal text and each value formatted as ``format(value, spec)``."""
        g = self.g
        vals = [g.expr(p.value) if isinstance(p, ir.FormatValue) else None for p in n.parts]
        if (
            len(n.parts) == 1
            and vals[0] is not None
            and vals[0].rep == "str"
            and not vals[0].may_be_none
            and isinstance(n.parts[0], ir.FormatValue)
            and n.parts[0].spec is None
        ):
            return vals[0]  # str(s), f"{s}" of a string: itself
        out = g.slot(frozenset({"str"}))
        first = n.parts[0]
        head = vals[0]
        if (
            isinstance(first, ir.FormatValue)
            and first.spec is None
            and head is not None
            and head.rep == "str"
            and not head.may_be_none
            and head.sb == SCRATCH
        ):  # f"{s.upper()}{n}": the first text is where the row wrote it last, so the rest goes after it
            start = self._start_with(head, f"{head.sb}, {head.ss}, {head.se}")
            parts, values = n.parts[1:], vals[1:]
        else:
            start = g.text_start()
            parts, values = n.parts, vals
        for part, val in zip(parts, values):
            if isinstance(part, str):
                if part:
                    g.text_call(f"t_put(sc, scn, {self._lit(part)})")
            else:
                assert val is not None
                self._format_value(val, part.spec)
        g.assign_text(out, g.text_end(start))
        return out

    def _format_value(self, v: Val, spec: ir.Spec | None) -> None:
        g = self.g
        for _, k in v.runtime_kinds(g.facts):
            if spec is not None and spec.text:
                err = python_error(f"format(a, {spec.text!r})", a=SAMPLE[k])
                if k == "float" or (err is None and not _spec_ok(spec, k)):
                    msg = f"format spec {spec.text!r} of a {k}"
                    raise unsupported(msg)

        def emit(ks: list[ValueKind], ps: list[str]) -> None:
            k, p = ks[0], ps[0]
            if spec is not None and spec.text:
                err = python_error(f"format(a, {spec.text!r})", a=SAMPLE[k])
                if err is not None:
                    g.fail(*err)
                    return
            padded = spec is not None and spec.width > 0
            if (
                padded
                and k in ("bool", "int")
                and spec is not None
                and not spec.align
                and spec.fill == " "
                and spec.sign in ("", "-", "+")
            ):  # [+][0]width: formatted and padded in one pass
                value = f"np.int64({p})" if k == "bool" else p
                g.text_call(f"t_fmt_int_pad(sc, scn, {value}, np.int64({spec.width}), {spec.zero}, {spec.sign == '+'})")
                return
            piece = g.text_start() if padded else ""
            if k == "none":
                g.text_call(f"t_put(sc, scn, {self._lit('None')})")
            elif k == "bool" and not (spec is not None and spec.text):  # with a spec, a bool formats as an int
                with g.block(f"if {p}"):
                    g.text_call(f"t_put(sc, scn, {self._lit('True')})")
                with g.block("else"):
                    g.text_call(f"t_put(sc, scn, {self._lit('False')})")
            elif k in ("bool", "int"):
                value = f"np.int64({p})" if k == "bool" else p
                if spec is not None and spec.sign in ("+", " "):
                    with g.block(f"if {value} >= 0"):
                        g.text_call(f"t_put(sc, scn, {self._lit(spec.sign)})")
                g.text_call(f"t_fmt_int(sc, scn, {value})")
            elif k == "float":
                g.text_call(f"t_fmt_float(sc, scn, {p})")
            else:
                g.text_call(f"t_put(sc, scn, {p})")
            if padded:
                assert spec is not None
                self._pad(piece, spec, k)

        g.dispatch([v], emit)

    def _pad(self, piece: str, spec: ir.Spec, kind: ValueKind) -> None:
        """Pad the text written since ``piece`` to the spec's width (copied after it, then moved back)."""
        g = self.g
        end = g.temp("te")
        g.write(f"{end} = scn")
        numeric = kind in ("int", "bool")
        if spec.zero and not spec.align and numeric:
            g.text_call(f"t_zfill(sc, scn, sc, {piece}, {end}, np.int64({spec.width}))")
        else:
            fill = "0" if spec.zero and not spec.align else spec.fill
            align = spec.align or (">" if numeric else "<")
            g.text_call(
                f"t_pad(sc, scn, sc, {piece}, {end}, np.int64({spec.width}), {self._lit(fill)}, "
                f"np.int64({'<>^'.index(align)}))"
            )
        # the padded copy follows the piece: move it down over the piece
        g.text_call(f"t_move(sc, {piece}, {end}, scn)")

    # -- reading text ----------------------------------------------------------------
    def length(self, out: Val, p: str) -> None:
        """``len(s)`` in code points."""
        self.g.assign(out, "int", f"t_len({p})")

    def parse(self, kind: str, out: Val, p: str) -> None:
        """``int(s)`` / ``float(s)``: plain decimal text here; anything else (and every error) Python's."""
        g = self.g
        v, ok = g.temp("pv"), g.temp("ok")
        g.write(f"{v}, {ok} = {'t_parse_int' if kind == 'int' else 't_parse_float'}({p})")
        with g.block(f"if not {ok}"):
            g.escape()
        g.assign(out, "int" if kind == "int" else "float", v)

    def slice(self, n: ir.Slice) -> Val:
        """``s[a:b]``: a span of the same bytes."""
        g = self.g
        obj = g.expr(n.obj)
        out = g.slot(frozenset({"str"}), buf=obj.sb)

        def emit(ks: list[ValueKind], ps: list[str]) -> None:
            k, p = ks[0], ps[0]
            if k != "str":
                g.fail(*python_raises("a[b:c]", a=SAMPLE[k], b=n.lower, c=n.upper))
                return
            lo, hi = self._bound(obj, p, n.lower, 0), self._bound(obj, p, n.upper, None)
            s, e = g.temp("bs"), g.temp("be")
            g.write(f"{s} = t_cp_offset({p}, {lo})")
            g.write(f"{e} = t_cp_offset({p}, {hi})")
            g.write(f"{e} = {e} if {e} > {s} else {s}")
            g.assign_text(out, g.text_val(obj.sb, s, e))

        g.dispatch([obj], emit)
        return out

    def _bound(self, obj: Val, p: str, bound: int | None, default: int | None) -> str:
        """A slice bound in code points (negative from the end, clamped at 0)."""
        g = self.g
        if bound is None:
            return "np.int64(0)" if default == 0 else f"np.int64({obj.se} - {obj.ss})"  # bytes >= code points
        if bound >= 0:
            return f"np.int64({bound})"
        b = g.temp("bd")
        g.write(f"{b} = max(np.int64(0), t_len({p}) + np.int64({bound}))")
        return b

    def index(self, n: ir.Index) -> Val:
        """``s[k]``: the code point at ``k``, or Python's IndexError."""
        g = self.g
        obj = g.expr(n.obj)
        out = g.slot(frozenset({"str"}), buf=obj.sb)

        def emit(ks: list[ValueKind], ps: list[str]) -> None:
            k, p = ks[0], ps[0]
            if k != "str":
                g.fail(*python_raises("a[b]", a=SAMPLE[k], b=n.index))
                return
            length, at = g.temp("ln"), g.temp("at")
            g.write(f"{length} = t_len({p})")
            g.write(f"{at} = np.int64({n.index}) + ({length} if {n.index} < 0 else np.int64(0))")
            with g.block(f"if {at} < 0 or {at} >= {length}"):
                g.fail(*_INDEX_ERROR)
            s, e = g.temp("bs"), g.temp("be")
            g.write(f"{s} = t_cp_offset({p}, {at})")
            g.write(f"{e} = t_cp_offset({p}, {at} + np.int64(1))")
            g.assign_text(out, g.text_val(obj.sb, s, e))

        g.dispatch([obj], emit)
        return out

    def split_index(self, n: ir.SplitIndex) -> Val:
        """``s.split(sep)[k]``: the piece, a span of the same bytes, or Python's error."""
        g = self.g
        obj = g.expr(n.obj)
        out = g.slot(frozenset({"str"}), buf=obj.sb)

        def emit(ks: list[ValueKind], ps: list[str]) -> None:
            k, p = ks[0], ps[0]
            if k != "str":
                g.fail(*python_raises("a.split(b)", a=SAMPLE[k], b=n.sep))
                return
            if n.sep == "":
                g.fail(*python_raises("'a'.split('')"))
                return
            s, e, st = g.temp("bs"), g.temp("be"), g.temp("st")
            if n.sep is None:
                g.write(f"{s}, {e}, {st} = t_split_ws_at({p}, np.int64({n.index}))")
                with g.block(f"if {st} == 2"):
                    g.escape()
                with g.block(f"if {st} == 1"):
                    g.fail(*_LIST_INDEX_ERROR)
            else:
                g.write(f"{s}, {e}, {st} = t_split_at({p}, {self._lit(n.sep)}, np.int64({n.index}))")
                with g.block(f"if not {st}"):
                    g.fail(*_LIST_INDEX_ERROR)
            g.assign_text(out, g.text_val(obj.sb, s, e))

        g.dispatch([obj], emit)
        return out

    # -- methods -------------------------------------------------------------------------
    def method(self, n: ir.Method) -> Val:
        """A str method with literal arguments."""
        g = self.g
        name, args = n.name, n.args
        obj = g.expr(n.obj)
        err = python_error(f"'a'.{name}(*args)", args=args)
        if err is not None and not _value_dependent(name, err[0]):
            out = g.slot(NONE_ONLY | {STR_METHODS[name]})
            return self._on_str(obj, out, name, args, lambda p: g.fail(*err))
        kind = STR_METHODS[name]
        spans = name in ("strip", "lstrip", "rstrip", "removeprefix", "removesuffix")
        out = g.slot(frozenset({kind}), buf=obj.sb if spans else None)
        if name in CASE_MODES:
            mode = CASE_MODES[name]
            return self._on_str(obj, out, name, args, lambda p: self._build(out, f"t_case(sc, scn, {p}, {mode})"))
        if name in PREDICATES:

            def pred(p: str) -> None:
                r = g.temp("r")
                g.write(f"{r} = t_is({p}, {PREDICATES[name]})")
                with g.block(f"if {r} == 2"):
                    g.escape()
                g.assign(out, "bool", f"{r} == 1")

            return self._on_str(obj, out, name, args, pred)
        emitter = getattr(self, f"_{name}", None)
        if emitter is None:
            msg = f"str.{name}"
            raise unsupported(msg)
        return self._on_str(obj, out, name, args, lambda p: emitter(obj, out, p, *args))

    def _build(self, out: Val, call: str) -> None:
        g = self.g
        start = g.text_start()
        g.text_call(call)
        g.assign_text(out, g.text_end(start))

    def _strip_any(self, obj: Val, out: Val, p: str, chars: str | None, *, left: bool, right: bool) -> None:
        g = self.g
        if chars is not None and not chars.isascii():
            msg = "strip() of characters beyond ASCII"
            raise unsupported(msg)
        s, e = g.temp("bs"), g.temp("be")
        cs = self._lit(chars or "")
        g.write(f"{s}, {e} = t_strip({p}, {cs}, {left}, {right}, {chars is None})")
        g.assign_text(out, g.text_val(obj.sb, s, e))

    def _strip(self, obj: Val, out: Val, p: str, chars: str | None = None) -> None:
        self._strip_any(obj, out, p, chars, left=True, right=True)

    def _lstrip(self, obj: Val, out: Val, p: str, chars: str | None = None) -> None:
        self._strip_any(obj, out, p, chars, left=True, right=False)

    def _rstrip(self, obj: Val, out: Val, p: str, chars: str | None = None) -> None:
        self._strip_any(obj, out, p, chars, left=False, right=True)

    def _removeprefix(self, obj: Val, out: Val, p: str, prefix: str) -> None:
        g = self.g
        s = g.temp("bs")
        size = len(prefix.encode())
        g.write(f"{s} = {obj.ss} + np.int64({size}) if t_startswith({p}, {self._lit(prefix)}) else {obj.ss}")
        g.assign_text(out, g.text_val(obj.sb, s, obj.se))

    def _removesuffix(self, obj: Val, out: Val, p: str, suffix: str) -> None:
        g = self.g
        size = len(suffix.encode())
        if not size:
            g.assign_text(out, obj)
            return
        e = g.temp("be")
        g.write(f"{e} = {obj.se} - np.int64({size}) if t_endswith({p}, {self._lit(suffix)}) else {obj.se}")
        g.assign_text(out, g.text_val(obj.sb, obj.ss, e))

    def _replace(self, obj: Val, out: Val, p: str, old: str, new: str, count: int = -1) -> None:
        if old == "":
            msg = "replace() of the empty string"
            raise unsupported(msg)
        self._build(out, f"t_replace(sc, scn, {p}, {self._lit(old)}, {self._lit(new)}, np.int64({count}))")

    def _zfill(self, obj: Val, out: Val, p: str, width: int) -> None:
        self._build(out, f"t_zfill(sc, scn, {p}, np.int64({width}))")

    def _padded(self, out: Val, p: str, width: int, fill: str, align: int) -> None:
        self._build(out, f"t_pad(sc, scn, {p}, np.int64({width}), {self._lit(fill)}, np.int64({align}))")

    def _ljust(self, obj: Val, out: Val, p: str, width: int, fill: str = " ") -> None:
        self._padded(out, p, width, fill, 0)

    def _rjust(self, obj: Val, out: Val, p: str, width: int, fill: str = " ") -> None:
        self._padded(out, p, width, fill, 1)

    def _center(self, obj: Val, out: Val, p: str, width: int, fill: str = " ") -> None:
        self._padded(out, p, width, fill, 2)

    def _affix(self, out: Val, p: str, affix: str | tuple[str, ...], helper: str) -> None:
        g = self.g
        options = affix if isinstance(affix, tuple) else (affix,)
        tests = [f"{helper}({p}, {self._lit(a)})" for a in options]
        g.assign(out, "bool", " or ".join(tests) or "False")

    def _startswith(self, obj: Val, out: Val, p: str, prefix: str | tuple[str, ...]) -> None:
        self._affix(out, p, prefix, "t_startswith")

    def _endswith(self, obj: Val, out: Val, p: str, suffix: str | tuple[str, ...]) -> None:
        self._affix(out, p, suffix, "t_endswith")

    def _found(self, out: Val, obj: Val, p: str, at: str, missing: tuple[str, str] | None) -> None:
        """The code-point position of a match at byte ``at`` (-1: none; ``missing``: fail with it then)."""
        g = self.g
        if missing is not None:
            with g.block(f"if {at} < 0"):
                g.fail(*missing)
        g.assign(out, "int", f"np.int64(-1) if {at} < 0 else t_len({obj.sb}, {obj.ss}, {at})")

    def _find(self, obj: Val, out: Val, p: str, sub: str) -> None:
        at = self.g.temp("at")
        self.g.write(f"{at} = t_find({p}, {self._lit(sub)}, {obj.ss})")
        self._found(out, obj, p, at, None)

    def _rfind(self, obj: Val, out: Val, p: str, sub: str) -> None:
        at = self.g.temp("at")
        self.g.write(f"{at} = t_rfind({p}, {self._lit(sub)})")
        self._found(out, obj, p, at, None)

    def _index(self, obj: Val, out: Val, p: str, sub: str) -> None:
        at = self.g.temp("at")
        self.g.write(f"{at} = t_find({p}, {self._lit(sub)}, {obj.ss})")
        self._found(out, obj, p, at, python_raises("'a'.index('b')"))

    def _rindex(self, obj: Val, out: Val, p: str, sub: str) -> None:
        at = self.g.temp("at")
        self.g.write(f"{at} = t_rfind({p}, {self._lit(sub)})")
        self._found(out, obj, p, at, python_raises("'a'.rindex('b')"))

    def _count(self, obj: Val, out: Val, p: str, sub: str) -> None:
        self.g.assign(out, "int", f"t_count({p}, {self._lit(sub)})")


def _value_dependent(name: str, error_type: str) -> bool:
    """Whether the sample's error is about the value rather than the arguments (``'a'.index('b')``)."""
    return name in ("index", "rindex") and error_type == "ValueError"


def _spec_ok(spec: ir.Spec, kind: ValueKind) -> bool:
    """Whether the compiler formats ``kind`` with ``spec`` (Python accepts it)."""
    if spec.zero and (spec.align or spec.sign == " "):
        return False  # a 0 flag beside an alignment or a space sign: not compiled
    if kind in ("int", "bool"):
        return spec.kind in ("", "d")
    if kind == "str":
        return spec.kind in ("", "s") and not spec.sign and not spec.zero
    return False
