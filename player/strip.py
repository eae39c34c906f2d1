"""``actinr slowmo-strip``: one region of a bundle across in-between times, the model above, a cross-fade below.

    actinr slowmo-strip model.engine --region 120,40,64,64 --t0 0.6 --t1 0.7 --steps 10 -o strip.png

Top row: the bundle rendered at ``steps`` times from ``t0`` to ``t1``
(seconds, both ends included), the region magnified ``--scale`` times by
rendering it at that resolution (the model is continuous in space, not
upscaled). Bottom row: what blending shows at the same times, the two end
pictures mixed by time. Motion reads as the object travelling across the
top row; a model that fades shows the bottom row's ghosting.
"""

from __future__ import annotations

import argparse

import numpy as np

from actinr import engines
from actinr.engines.errors import ActinrError
from actinr.engines.files import check_output, write_atomic

GAP = 2  # pixels between tiles
LABEL = 14  # pixels of the label column's text height


def parse_region(text: str, width: int, height: int) -> tuple[int, int, int, int]:
    """``X,Y,W,H`` in source pixels -> four ints inside the frame, or a one-line error."""
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise ActinrError(f"--region must be X,Y,W,H (four whole numbers of source pixels), got {text!r}") from None
    if w < 1 or h < 1 or x < 0 or y < 0 or x + w > width or y + h > height:
        raise ActinrError(f"--region {x},{y},{w},{h} must lie inside the {width}x{height} frame "
                          "with a width and height of at least 1")
    return x, y, w, h


def strip(dec, region, t0: float, t1: float, steps: int, scale: float) -> np.ndarray:
    """The two rows as one uint8 (H, W, 3) picture (no labels)."""
    x, y, w, h = region
    sw, sh = dec.info.size
    viewport = (x / sw, y / sh, (x + w) / sw, (y + h) / sh)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    times = np.linspace(t0, t1, steps)
    top = [np.asarray(dec.render(float(t), size=size, viewport=viewport)) for t in times]
    a, b = top[0].astype(np.float32), top[-1].astype(np.float32)
    weights = (times - t0) / (t1 - t0) if t1 != t0 else np.zeros(steps)
    bottom = [np.rint((1 - v) * a + v * b).astype(np.uint8) for v in weights]
    tw, th = size
    out = np.full((2 * th + GAP, steps * tw + (steps - 1) * GAP, 3), 255, np.uint8)
    for i, (p, q) in enumerate(zip(top, bottom)):
        out[:th, i * (tw + GAP): i * (tw + GAP) + tw] = p
        out[th + GAP:, i * (tw + GAP): i * (tw + GAP) + tw] = q
    return out


def labelled(img: np.ndarray, labels: tuple[str, str]) -> np.ndarray:
    """The strip with a white column on the left naming each row."""
    from PIL import Image, ImageDraw

    th = (img.shape[0] - GAP) // 2
    pad = 8 * max(map(len, labels)) + 8
    canvas = Image.new("RGB", (img.shape[1] + pad, img.shape[0]), "white")
    canvas.paste(Image.fromarray(img), (pad, 0))
    draw = ImageDraw.Draw(canvas)
    for row, text in enumerate(labels):
        draw.text((4, row * (th + GAP) + max(0, th // 2 - LABEL // 2)), text, fill="black")
    return np.asarray(canvas)


def add_strip_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split("\n\n")[0].replace("``", "")
    parser.epilog = "\n\n".join(__doc__.split("\n\n")[1:])
    parser.add_argument("bundle", help="a .engine bundle")
    parser.add_argument("--region", required=True, metavar="X,Y,W,H", help="the region, in source pixels")
    parser.add_argument("--t0", type=float, required=True, help="first time (seconds)")
    parser.add_argument("--t1", type=float, required=True, help="last time (seconds)")
    parser.add_argument("--steps", type=int, default=10, help="pictures from t0 to t1, both included (default 10)")
    parser.add_argument("--scale", type=float, default=2.0, help="magnification of the region (default 2)")
    parser.add_argument("-o", "--output", required=True, help="the PNG to write")
    parser.add_argument("--backend", default="auto", help="decoder backend (default auto)")


def run_strip(args: argparse.Namespace) -> int:
    if not 2 <= args.steps <= 64:
        raise ActinrError(f"--steps must be from 2 to 64, got {args.steps}")
    if not 0.1 <= args.scale <= 16:
        raise ActinrError(f"--scale must be from 0.1 to 16, got {args.scale}")
    if not str(args.output).lower().endswith(".png"):
        raise ActinrError(f"-o must name a .png file, got {args.output}")
    check_output(args.output, what="-o")
    with engines.open(args.bundle, backend=args.backend) as dec:
        region = parse_region(args.region, *dec.info.size)
        if not (0 <= args.t0 < args.t1 <= dec.info.last_time):
            raise ActinrError(f"--t0 and --t1 must satisfy 0 <= t0 < t1 <= {dec.info.last_time:.3f} "
                              f"(the bundle's last frame time), got {args.t0} and {args.t1}")
        img = labelled(strip(dec, region, args.t0, args.t1, args.steps, args.scale), ("INR", "blend"))
        fps = dec.info.fps
    from PIL import Image

    write_atomic(args.output, lambda tmp: Image.fromarray(img).save(tmp, format="PNG"))
    print(f"{args.output}: {args.steps} pictures of region {args.region} from frame {args.t0 * fps:.2f} "
          f"to {args.t1 * fps:.2f} ({img.shape[1]}x{img.shape[0]}): INR above, blending below")
    return 0
