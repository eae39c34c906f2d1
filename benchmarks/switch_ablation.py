"""GOP switch variants on one bundle: how the two GOPs are mixed around a shared frame.

Renders the bundle every 0.1 frame across the clip (torch-cpu, as
benchmarks/slowmo_quality.py does) once per variant of the switch window
(engines/timeline.py ``switch_mix``: its width in frames and its ``warp``, the
times at which the two GOPs are rendered inside it) and prints the largest step
across a switch against the median step inside the GOPs, and against the
step the same bundle takes at the same time when each time is rendered by its
one GOP (the motion there; the jump over the shared frame itself counts as the
mean of its neighbours).

    python benchmarks/switch_ablation.py BUNDLE [--variants hold:1,ease:1,...] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from actinr import engines
from actinr.engines import timeline

from slowmo_quality import step_profile, steps  # this folder is on sys.path when run as a script


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle")
    ap.add_argument("--variants", default="hold:1,ease:1,hold:2,ease:2",
                    help="comma-separated WARP:WIDTH (warp: hold, ease or through; width in frames)")
    ap.add_argument("--json", help="write the rows here")
    args = ap.parse_args()
    with engines.open(args.bundle, backend="torch-cpu") as dec:
        single, spans = steps(dec, dec.info.frames, False), dec.info.gops
    rows = []
    for v in args.variants.split(","):
        warp, _, width = v.partition(":")
        width = float(width or timeline.SWITCH_BLEND)
        with engines.open(args.bundle, backend="torch-cpu") as dec:
            dec.switch_width, dec.switch_warp = width, warp
            prof = step_profile(steps(dec, dec.info.frames, True), spans, width, single)
        rows.append({"warp": warp, "width": width, **prof})
        print(f"{warp:5s} width {width:.1f}: largest across a switch {prof['largest_switch_step']:.3f} "
              f"(frames {prof['at'][0]}-{prof['at'][1]}), median inside {prof['median_step']:.3f}: "
              f"{prof['ratio']:.2f}x; over the one-GOP step at the same time {prof['over_motion']:.2f}x "
              f"(frames {prof['over_motion_at'][0]}-{prof['over_motion_at'][1]})", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"bundle": str(args.bundle), "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
