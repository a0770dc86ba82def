"""Every ```python block of the guide (docs/*.md) runs, as a user would paste it.

As for the README (tests/test_readme.py): each block on its own, in a fresh
namespace, from the repository root, with a private kernel cache; blocks state
what they show with ``assert``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_readme import python_blocks

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(DOCS.glob("*.md"))
BLOCKS = [(page, line, code) for page in PAGES for line, code in python_blocks(page.read_text(encoding="utf-8"))]

#: Blocks fenced ```python ray need a Ray cluster: ``tests/test_engine_ray.py`` runs them (marked ``ray``,
#: after the others in ``make test``) on the Ray instance its tests share; without Ray they are skipped.
_RAY_FENCE = re.compile(r"^```python ray\n(.*?)^```$", re.DOTALL | re.MULTILINE)
RAY_BLOCKS = [
    (page, text.count("\n", 0, m.start()) + 1, m.group(1))
    for page in PAGES
    for text in [page.read_text(encoding="utf-8")]
    for m in _RAY_FENCE.finditer(text)
]


def test_the_guide_has_its_pages_and_examples() -> None:
    assert len(PAGES) >= 2 and len(BLOCKS) >= 6


def test_the_ray_guide_has_runnable_examples() -> None:
    assert len([b for b in RAY_BLOCKS if b[0].name == "ray.md"]) >= 3


def test_every_page_is_linked_from_the_index() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in PAGES if p.name != "README.md" and f"({p.name})" not in index]
    assert not missing, f"pages not linked from docs/README.md: {missing}"


@pytest.mark.parametrize(("page", "line", "code"), BLOCKS, ids=[f"{page.name}:{line}" for page, line, _ in BLOCKS])
@pytest.mark.usefixtures("kernel_cache_dir")
def test_docs_block(
    page: Path,
    line: int,
    code: str,
    repo_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(repo_root)
    compiled = compile("\n" * line + code, str(page), "exec")  # padded: tracebacks give the page's lines
    exec(compiled, {"__name__": f"docs_block_{page.stem}_{line}"})
    capsys.readouterr()
