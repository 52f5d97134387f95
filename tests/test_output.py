"""Report files: written atomically, with the permissions an ordinary new file gets."""

import os
import stat

from checker.render.output import atomic_writer


def test_report_file_gets_umask_permissions_not_private_ones(tmp_path):
    previous = os.umask(0o022)
    try:
        with atomic_writer(tmp_path / "report.json") as stream:
            stream.write("{}")
    finally:
        os.umask(previous)
    mode = stat.S_IMODE((tmp_path / "report.json").stat().st_mode)
    assert mode == 0o644


def test_no_temporary_file_is_left_beside_the_report(tmp_path):
    with atomic_writer(tmp_path / "report.json") as stream:
        stream.write("{}")
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
