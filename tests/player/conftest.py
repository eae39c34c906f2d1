"""Player fixtures: a virtual X display (Xvfb, started here) and decoders of the shipped demo bundle."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


@pytest.fixture(scope="session")
def xdisplay():
    """A fresh Xvfb display for the session (DISPLAY is set while it runs).

    Without Xvfb the window tests skip, except under CI (CI=true), whose
    .ci/run installs it: there a missing Xvfb is a failure, not a skip.
    """
    exe = shutil.which("Xvfb")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("Xvfb is not installed but CI=true (.ci/run should have installed package xvfb)")
        pytest.skip("Xvfb is not installed (apt-get install xvfb) so no window can be opened here")
    read, write = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as fh:
        number = fh.readline().strip()  # Xvfb writes its display number once it accepts clients
    if not number:
        proc.kill()
        pytest.fail("Xvfb did not start")
    old = {k: os.environ.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY")}
    os.environ["DISPLAY"] = f":{number}"
    os.environ.pop("WAYLAND_DISPLAY", None)
    yield os.environ["DISPLAY"]
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    from actinr.player.window import release_display

    release_display()  # GLFW stays initialised between windows: let go of this display before it goes
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def demo_path():
    from actinr.player.cli import DEMO

    return DEMO


@pytest.fixture()
def demo_decoder(demo_path):
    import actinr.engines as E

    with E.open(demo_path, backend="torch-cpu") as dec:
        yield dec


class FakeTime:
    """A wall clock the test moves by hand."""

    def __init__(self, t: float = 100.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture()
def fake_time():
    return FakeTime()
