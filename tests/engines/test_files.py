import os
import stat

import pytest

from actinr.engines.files import write_atomic


def test_written_file_gets_the_umask_mode_not_mkstemps_0600(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a.bin", lambda tmp: open(tmp, "wb").write(b"x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o644


def test_failed_write_leaves_nothing(tmp_path):
    def fail(tmp):
        open(tmp, "wb").write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(tmp_path / "a.bin", fail)
    assert list(tmp_path.iterdir()) == []
