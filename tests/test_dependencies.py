"""The dependency direction (docs/measurements.md "Layout"): train -> engines <- export -> train, player -> engines.

Read statically from every module's imports (the AST, not by importing), so
a lazy import inside a function counts as well. The one documented exception:
``actinr bench``'s reference row, player/bench/run.py importing train/render.py
inside a function (never at module level).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("engines", "train", "export", "player")
ALLOWED = {"engines": {"engines"}, "train": {"engines", "train"}, "export": {"engines", "train", "export"},
           "player": {"engines", "player"}}
EXCEPTION = ("player/bench/run.py", "actinr.train.render")


def imports(path: Path, root: Path = ROOT) -> list[tuple[str, bool]]:
    """(absolute module, at module level) of every import in ``path`` (a file of the checkout at ``root``)."""
    package = "actinr." + ".".join(path.relative_to(root).parent.parts)
    tree = ast.parse(path.read_text(), str(path))
    top = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((name, id(node) in top))
    return out


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "actinr" and parts[1] in STAGES else None


def test_every_stage_imports_only_what_the_layout_allows():
    seen, exceptions = 0, []
    for stage in STAGES:
        for path in sorted((ROOT / stage).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for module, top_level in imports(path):
                target = stage_of(module)
                if target is None:
                    continue
                seen += 1
                if target in ALLOWED[stage]:
                    continue
                if (rel, module) == EXCEPTION and not top_level:
                    exceptions.append(rel)
                    continue
                raise AssertionError(f"{rel} imports {module}: {stage}/ must not import {target}/")
    assert seen > 50  # the walk really read the package's imports
    assert exceptions == ["player/bench/run.py"]  # the documented exception is still the only one, and lazy


def test_relative_and_lazy_imports_are_read(tmp_path):
    """The checker itself: ``from ...train import fit`` in player/bench/ imports actinr.train."""
    folder = tmp_path / "player" / "bench"
    folder.mkdir(parents=True)
    (folder / "m.py").write_text("from ...train import fit\nfrom . import stats\n\n\n"
                                 "def f():\n    import actinr.export\n")
    assert imports(folder / "m.py", tmp_path) == [("actinr.train", True), ("actinr.player.bench", True),
                                                  ("actinr.export", False)]
    assert [stage_of(m) for m, _ in imports(folder / "m.py", tmp_path)] == ["train", "player", "export"]
