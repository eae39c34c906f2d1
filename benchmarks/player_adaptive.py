"""The player's adaptive resolution on this machine: a 1280x720 window on the demo bundle (or --bundle) under Xvfb.

Plays for ``--seconds`` (10) with the defaults a user gets (the window's own run loop with its decode thread,
vsync on, --target-fps the default), then pauses and waits for the full-size frame, then quits; the same with
``--target-fps 0`` (every frame at full window size: the behaviour before issue 18). Reports, from the
window's --stats records: displayed FPS while playing (after the first 2 s, where the scale settles), the
render sizes used, scale changes after settling, and the time from the pause key to the full-size frame on
screen. Needs Xvfb (starts its own).

    python benchmarks/player_adaptive.py       # -> benchmarks/results/<date>-cpu-player_adaptive.{json,log}
    python benchmarks/player_adaptive.py --bundle other.engine   # -> ...-cpu-player_adaptive-other.{json,log}
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTLE = 2.0  # seconds the scale may take to settle before it is judged


def start_xvfb() -> subprocess.Popen:
    exe = shutil.which("Xvfb")
    if exe is None:
        sys.exit("Xvfb is not installed (apt-get install xvfb)")
    read, write = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(write), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as fh:
        os.environ["DISPLAY"] = f":{fh.readline().strip()}"
    os.environ.pop("WAYLAND_DISPLAY", None)
    return proc


def session(dec, seconds: float, target_fps: float | None) -> dict:
    from actinr.player.config import PlayConfig
    from actinr.player.window import Player

    cfg = PlayConfig(geometry="1280x720", target_fps=target_fps, stats="unused.json", osd=True)
    p = Player(dec, cfg)
    glfw = p.glfw
    poll, wait = glfw.poll_events, glfw.wait_events_timeout
    marks = {"start": time.perf_counter()}

    def tick():
        now = time.perf_counter()
        if "pause" not in marks and now - marks["start"] > seconds:
            marks["pause"] = now
            p._on_key(p.window, glfw.KEY_SPACE, 0, glfw.PRESS, 0)
        elif "pause" in marks and "full" not in marks and p.last_render is not None \
                and p.last_render[1] == p.full_size and p.presents and p.presents[-1] > marks["pause"]:
            marks["full"] = p.presents[-1]
        elif "full" in marks:
            p.controls.requests.quit = True

    glfw.poll_events = lambda: (tick(), poll())[1]
    glfw.wait_events_timeout = lambda timeout: (tick(), wait(min(timeout, 0.01)))[1]
    try:
        p.run()
    finally:
        glfw.poll_events, glfw.wait_events_timeout = poll, wait
    doc = p.stats()
    full, target = p.full_size, p.target_fps
    p.close()
    rec = [r for r in doc["records"] if marks["start"] + SETTLE <= r["wall"] <= marks["pause"]]
    fps = (len(rec) - 1) / (rec[-1]["wall"] - rec[0]["wall"]) if len(rec) > 1 else None
    sizes = Counter(r["render"] for r in rec)
    changes = sum(1 for a, b in zip(rec, rec[1:]) if a["render"] != b["render"])
    return {"target_fps": target, "window": f"{full[0]}x{full[1]}", "playing_seconds": round(seconds - SETTLE, 2),
            "displayed_fps": round(fps, 2) if fps else None, "frames": len(rec),
            "render_sizes": dict(sizes.most_common()), "scale_changes_after_settling": changes,
            "scale_changes_total": doc["summary"]["scale_changes"],
            "decode_ms_mean": round(sum(r["decode_ms"] for r in rec) / max(len(rec), 1), 2),
            "pause_to_full_size_s": round(marks["full"] - marks["pause"], 3) if "full" in marks else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    ap.add_argument("--bundle", help="the bundle to play (default: the demo bundle); the files are named after it")
    args = ap.parse_args(argv)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    xvfb = start_xvfb()
    try:
        import torch

        import actinr.engines as E
        from actinr.player.cli import DEMO

        lines = []

        def say(text):
            print(text, flush=True)
            lines.append(text)

        bundle = Path(args.bundle or DEMO)
        with E.open(bundle) as dec:
            say(f"{'demo bundle' if bundle == DEMO else bundle}, {dec.info.backend} on {dec.info.device}, "
                f"torch {torch.__version__}, {torch.get_num_threads()} threads, Xvfb + Mesa, "
                f"{datetime.date.today().isoformat()}")
            rows = {"adaptive (default)": session(dec, args.seconds, None),
                    "--target-fps 0 (full size every frame)": session(dec, args.seconds, 0)}
        for name, r in rows.items():
            say(f"{name}: {r}")
        name = "" if bundle == DEMO else f"-{bundle.stem}"
        stem = Path(args.out) / f"{datetime.date.today().isoformat()}-cpu-player_adaptive{name}"
        Path(f"{stem}.json").write_text(json.dumps(rows, indent=2) + "\n")
        Path(f"{stem}.log").write_text("\n".join(lines) + "\n")
        say(f"wrote {stem}.json and .log")
    finally:
        from actinr.player.window import release_display

        release_display()
        xvfb.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
