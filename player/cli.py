"""``actinr-play`` (also ``actinr play``): play a bundle in a window, or render it to a video file."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from actinr.engines.config import add_config_flags, config_from_args

from .config import PlayConfig
from .controls import keys_help

DEMO = Path(__file__).with_name("data") / "demo.engine"  # made by `make demo-model` (see Makefile)

DESCRIPTION = ("Play an ActINR bundle in real time at any size and speed, or render it to a video file.\n"
                    "Without MODEL it plays the demo bundle shipped with actinr (4 s of carphone, looped).")

EPILOG = f"""keys (as in mpv):
{keys_help()}

examples:
  actinr-play                                  the demo bundle
  actinr-play model.engine --slowmo 10         10x slow motion (no optical flow: the INR is continuous in time)
  actinr-play model.engine --size 1920x1080    render at 1080p whatever the window size
  actinr-play model.engine --no-vsync          as fast as the decoder goes (see the on-screen FPS)
  actinr-play model.engine --geometry 1280x720 --target-fps 24
                                               a 720p window that keeps 24 FPS while playing
  actinr-play model.engine --stats play.json   every displayed frame's timings, on exit
  actinr-play model.engine --compare clip.mp4  the INR beside the clip it was fitted to, with PSNR
  actinr-play model.engine --compare clip.mp4 --output ab.mp4   the same split view, to a file
  actinr-play model.engine --output slow.mp4 --slowmo 4 --size 704x576
                                               render to a file; no display needed"""


def add_play_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description, parser.epilog = DESCRIPTION, EPILOG
    parser.add_argument("model", nargs="?", help="a .engine bundle from actinr export (default: the demo bundle)")
    add_config_flags(parser, PlayConfig)
    parser.add_argument("--quiet", action="store_true", help="no progress bar or status lines")
    parser.add_argument("-v", "--verbose", action="store_true", help="say which backends were skipped and why")


def run_play(args: argparse.Namespace) -> int:
    from actinr.engines import open as open_decoder
    from actinr.engines.errors import ActinrError
    from actinr.engines.files import check_output
    from actinr.engines.media import check_video_path

    cfg = config_from_args(PlayConfig, args)
    cfg.validate()
    if cfg.output is not None:
        check_video_path(cfg.output)
        check_output(cfg.output, what="--output")
    if cfg.stats is not None:
        check_output(cfg.stats, what="--stats")  # written on exit: a bad place is said now, not after playing
    # A folder asked for the s key is checked now (the default, ".", may be read-only: the OSD says so).
    if cfg.output is None and "screenshots" in getattr(args, "given", ()):
        check_output(cfg.screenshots, folder=True, what="--screenshots")
    log = logging.getLogger("actinr")  # ours only: PyOpenGL logs at INFO on the root logger's handlers
    if not log.handlers:
        log.addHandler(logging.StreamHandler())
    log.setLevel(logging.INFO if args.verbose else logging.WARNING)
    path = args.model
    if path is None:
        if not DEMO.is_file():
            raise ActinrError(f"the demo bundle is missing from this install ({DEMO}); "
                              "give a MODEL, or run `make demo-model` in a source checkout")
        path = DEMO
    say = (lambda *a: None) if args.quiet else print
    with open_decoder(path, cfg.backend, cfg.device, cfg.precision, cfg.exact_bias) as dec:
        info = dec.info
        if cfg.output is not None:
            from .headless import render_video

            done = render_video(dec, cfg, progress=not args.quiet)
            for note in done["notes"]:
                say(f"--compare: {note}")
            w, h = done["size"]
            say(f"wrote {done['path']}: {done['frames']} frames, {w}x{h} at {done['fps']:.3f} fps "
                f"({done['seconds']:.2f} s), {info.backend} on {info.device}")
            return 0
        from .window import Player

        with Player(dec, cfg) as player:
            say(f"playing {info.name} ({info.width}x{info.height}, {info.frames} frames at {info.fps:.3f} fps) "
                f"with {info.backend} on {info.device}, OpenGL {player.renderer.version}")
            say(f"frames reach OpenGL through {player.uploader.path}")
            if player.compare is not None:
                say(f"comparing with {cfg.compare}: INR left of the divider, source right (drag it, or < and >)"
                    + "".join(f"; {note}" for note in player.compare.notes))
            if player.adapt is not None:
                say(f"holding {player.target_fps:g} FPS while playing by rendering fewer pixels "
                    "(--target-fps; 0: always full size)")
            try:
                player.run()
            finally:  # q, a closed window, Ctrl-C: the frames shown so far are written
                if cfg.stats is not None:
                    player.write_stats(cfg.stats)
                    summary = player.stats()["summary"]
                    say(f"wrote {cfg.stats}: {summary['frames']} frames, {summary['displayed_fps'] or 0:.1f} "
                        f"displayed FPS, {summary['scale_changes']} scale changes")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``actinr-play`` command."""
    from actinr.engines.cli import run_command

    return run_command("play", sys.argv[1:] if argv is None else list(argv), "actinr-play")


if __name__ == "__main__":
    sys.exit(main())
