"""Every ```python block of README.md runs, as a user would paste it.

Each block is self-contained and runs on its own, in a fresh namespace, from
the repository root (the README's relative paths, such as
``examples/seed_streaming.yaml``, are relative to it) with a private kernel
cache. A block states what it shows with ``assert``, so a README that drifts
from the code fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"

_FENCE = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """The ```python blocks of ``text`` as ``(line of the fence, code)``."""
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in _FENCE.finditer(text)]


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 2, "README.md lost its examples (the rest are in docs/, tested by test_docs.py)"


def test_readme_first_screen_has_the_commands() -> None:
    first_screen = "\n".join(README.read_text(encoding="utf-8").splitlines()[:25])
    for command in ("make demo", "make test", "make bench"):
        assert command in first_screen


@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
@pytest.mark.usefixtures("kernel_cache_dir")
def test_readme_block(
    line: int, code: str, repo_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo_root)
    # padded so that tracebacks give the README's own line numbers
    compiled = compile("\n" * line + code, str(README), "exec")
    exec(compiled, {"__name__": f"readme_block_{line}"})
    capsys.readouterr()
