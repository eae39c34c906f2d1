"""The run folder: ``config.json`` plus one safetensors file per fitted GOP.

``config.json`` holds the TrainConfig, the source clip (path, size, fps,
frames), the patch layout, the GOP spans, per-GOP results and, while a fit is
interrupted, where to resume. ``gop_NNN.safetensors`` holds one GOP's model
state; ``resume.safetensors`` the model, Adam state and sampler state of an
interrupted GOP. No pickle anywhere; every file is written atomically.

``config.json`` is parsed once, in :meth:`Run.load`, into :class:`Run` and the
frozen :class:`RunSource`, :class:`GopResult` and :class:`ResumePoint`; the
rest of the code reads attributes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from actinr.engines.errors import ActinrError
from actinr.engines.files import os_reason, write_bytes, write_text
from actinr.engines.grid import PatchLayout

from .config import TrainConfig

RUN_FORMAT = "actinr-run"
RUN_VERSION = 1


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("actinr")
    except PackageNotFoundError:
        return "0+unknown"


def save_tensors(path: Path, tensors: dict[str, torch.Tensor], meta: dict | None = None) -> None:
    """Write tensors as safetensors, atomically (serialised in memory, then written by Python, so a full disk
    is an OSError that :func:`write_atomic` reports on one line)."""
    from safetensors.torch import save

    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    write_bytes(path, save(tensors, metadata={k: str(v) for k, v in (meta or {}).items()}))


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise ActinrError(f"{path}: missing (the run folder is incomplete)")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ActinrError(f"{path}: not a readable safetensors file ({str(exc).splitlines()[0]})") from None


@dataclass(frozen=True)
class RunSource:
    """The clip a run fits: ``count`` frames from ``start`` of the file at ``path`` (``total`` frames), fitted at
    ``width x height`` (after any --resize) and ``fps``."""

    path: str
    width: int
    height: int
    fps: float
    total: int
    start: int
    count: int

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class GopResult:
    """One finished GOP: its frames, fit PSNR (dB), training seconds, parameter count and steps."""

    gop: int
    first: int
    last: int
    psnr: float
    seconds: float
    params: int
    iters: int

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ResumePoint:
    """Where an interrupted fit continues: GOP ``gop`` at step ``step``."""

    gop: int
    step: int

    def to_json(self) -> dict:
        return {"gop": self.gop, "iter": self.step}


@dataclass
class Run:
    """What ``config.json`` says about a run folder."""

    path: Path
    config: TrainConfig
    source: RunSource
    patch: int
    spans: list[tuple[int, int]]  # GOP (first, last) frames, relative to source.start
    fitted: list[int]  # frames (relative) that the loss saw
    gops_done: int = 0  # the leading GOPs 0 .. gops_done - 1 are all fitted (what eval and export use)
    results: list[GopResult] = field(default_factory=list)  # per finished GOP (a parallel run: in any order)
    resume: ResumePoint | None = None  # while interrupted
    version: str = field(default_factory=package_version)
    detail: float | None = None  # the fitted frames' detail in dB (train/scenes.py detail_db), where --patch 0 took it

    @property
    def layout(self) -> PatchLayout:
        return PatchLayout(self.source.width, self.source.height, self.patch, self.config.overlap)

    @property
    def finished(self) -> set[int]:
        """The fitted GOPs: ``0 .. gops_done - 1`` after a sequential fit; any of them after a parallel one."""
        return {r.gop for r in self.results} | set(range(self.gops_done))

    @property
    def missing(self) -> list[int]:
        done = self.finished
        return [g for g in range(len(self.spans)) if g not in done]

    @property
    def complete(self) -> bool:
        return not self.missing

    def finish(self, result: GopResult) -> None:
        """Record a fitted GOP (its file already written) and move ``gops_done`` past the leading finished ones."""
        self.results = sorted([r for r in self.results if r.gop != result.gop] + [result], key=lambda r: r.gop)
        done = self.finished
        while self.gops_done < len(self.spans) and self.gops_done in done:
            self.gops_done += 1

    def gop_file(self, g: int) -> Path:
        return self.path / f"gop_{g:03d}.safetensors"

    def save(self) -> None:
        data = {
            "format": RUN_FORMAT, "format_version": RUN_VERSION, "actinr_version": self.version,
            "config": self.config.to_json(), "source": self.source.to_json(), "patch": self.patch,
            "spans": [list(s) for s in self.spans], "fitted": self.fitted, "gops_done": self.gops_done,
            "results": [r.to_json() for r in self.results],
            "resume": None if self.resume is None else self.resume.to_json(),
            "detail_db": self.detail,
        }
        text = json.dumps(data, indent=2)
        write_text(self.path / "config.json", text)

    @classmethod
    def load(cls, path) -> Run:
        path = Path(path)
        cfg = path / "config.json"
        if not path.is_dir():
            raise ActinrError(f"{path}: no such run folder")
        if not cfg.is_file():
            raise ActinrError(f"{path}: not a run folder (no config.json)")
        try:
            data = json.loads(cfg.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ActinrError(f"{cfg}: not valid JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
            raise ActinrError(f"{cfg}: not an actinr run config")
        version = data.get("format_version")
        if not isinstance(version, int) or version > RUN_VERSION:
            raise ActinrError(f"{cfg}: run format version {version} is newer than this actinr reads "
                              f"({RUN_VERSION}); upgrade actinr")
        try:
            src, resume = data["source"], data["resume"]
            run = cls(path, TrainConfig.from_json(data["config"]),
                      RunSource(str(src["path"]), int(src["width"]), int(src["height"]), float(src["fps"]),
                                int(src["total"]), int(src["start"]), int(src["count"])),
                      int(data["patch"]), [tuple(int(v) for v in s) for s in data["spans"]],
                      [int(f) for f in data["fitted"]], int(data["gops_done"]),
                      [GopResult(**r) for r in data["results"]],
                      None if resume is None else ResumePoint(int(resume["gop"]), int(resume["iter"])),
                      str(data["actinr_version"]),
                      None if data.get("detail_db") is None else float(data["detail_db"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ActinrError(f"{cfg}: damaged run config ({type(exc).__name__}: {exc})") from None
        for g in sorted(run.finished):
            if not run.gop_file(g).is_file():
                raise ActinrError(f"{run.gop_file(g)}: missing (the run folder is incomplete)")
        return run

    def model_args(self) -> dict:
        c = self.config
        return dict(patches=self.layout.count, hidden=c.hidden, layers=c.layers, w0=c.w0, s0=c.s0,
                    freq_scale=c.time_freq, time_bias=c.time_bias)

    def load_model(self, g: int, device="cpu"):
        """The fitted model of GOP ``g``."""
        from .model import GOPModel

        if g not in self.finished:
            raise ActinrError(f"{self.path}: GOP {g} is not fitted (fitted: {len(self.finished)} of {len(self.spans)})")
        model = GOPModel(**self.model_args())
        state = load_tensors(self.gop_file(g))
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ActinrError(f"{self.gop_file(g)}: tensors do not match config.json "
                              f"({str(exc).splitlines()[0]})") from None
        return model.to(device).eval()


LOCK_NAME = ".lock"


class RunLock:
    """``RUN/.lock``, held (``flock``) while a process trains the run, so a second process refuses to.

    The file names its holder (pid, host, start time). The kernel releases the
    lock when the holder exits, however it exits, so a lock file left by a
    killed process is found free: it is reported as stale (``stale`` holds what
    it said) and taken over.
    """

    def __init__(self, folder):
        self.path = Path(folder) / LOCK_NAME
        self.stale: str | None = None
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock (training still works)
            return self
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise ActinrError(f"{self.path}: cannot create the run's lock file: {os_reason(exc)}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.pread(fd, 512, 0).decode(errors="replace").strip() or "another process"
                os.close(fd)
                raise ActinrError(f"{self.path.parent}: is being trained by {holder}; wait for it to finish or "
                                  "stop it first") from None
            try:  # the holder may have removed the file between our open and flock: lock the current one
                if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        self.stale = os.pread(fd, 512, 0).decode(errors="replace").strip() or None
        note = f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, note, 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


# options whose "auto" value a new run stores resolved (train/fit.py new_run)
AUTO = {"overlap": -1, "batch": 0, "matmul": "auto"}


def option_changes(run: Run, given: dict) -> list[str]:
    """The options in ``given`` (TrainConfig field -> value, as typed for ``--resume``) that differ from the
    run's, as ``--flag VALUE (run: VALUE)``; ``source`` compares resolved paths."""
    from actinr.engines.config import flag_name

    out = []
    for name, value in given.items():
        if name == "source":
            if value is not None and Path(value).resolve() != Path(run.source.path):
                out.append(f"SOURCE {value} (run: {run.source.path})")
            continue
        old = getattr(run.config, name)
        if value != old and AUTO.get(name, object()) != value:  # "auto" matches the value it was resolved to
            out.append(f"{flag_name(name)} {value} (run: {old})")
    return out
