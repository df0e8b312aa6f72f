"""minigan.io for long jobs: files whole or absent (mode 0644, orphans cleaned), new folders that
appear at once, clear errors for files that are no checkpoint, one ETA for a job of phases, and
Ctrl-C turned into a request to stop at a safe point."""
import io
import os
import signal
import stat

import numpy as np
import pytest

from minigan.io.atomic import atomic_file, write_text
from minigan.io.folders import FolderInUse, claim_folder, new_folder
from minigan.io.interrupt import StopRequests
from minigan.io.npz import load_npz, save_npz
from minigan.io.progress import Progress, format_seconds


@pytest.fixture
def common_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing_behind(tmp_path):
    path = tmp_path / "config.json"
    write_text(path, "old\n")
    with pytest.raises(RuntimeError):
        with atomic_file(path, "w") as handle:
            handle.write("half of the new")
            raise RuntimeError("killed")
    assert path.read_text() == "old\n" and os.listdir(tmp_path) == ["config.json"]


def test_written_files_get_the_mode_of_any_new_file(tmp_path, common_umask):
    save_npz(tmp_path / "last.npz", {"w": np.ones(3)})
    write_text(tmp_path / "notes.txt", "x")
    for name in ("last.npz", "notes.txt"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o644


def _left_by_a_killed_writer(folder, token="deadbeef0000", job="test job"):
    """A folder as a killed claim leaves it: its record in .lock, a half-written file."""
    folder.mkdir(exist_ok=True)
    (folder / ".lock").write_text(f'{{"pid": 1, "job": "{job}", "token": "{token}"}}\n')
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "sub" / f".tmp-{token}-last.npz-abc123").write_bytes(b"PK half")


def test_a_claim_removes_the_temporary_files_its_last_holder_recorded_and_nothing_else(tmp_path):
    _left_by_a_killed_writer(tmp_path / "out")
    for name in (".tmp-notes", ".tmp-0123456789ab-x-yz", ".hidden", "last.npz"):
        (tmp_path / "out" / name).write_bytes(b"keep")
    with claim_folder(tmp_path / "out", "test job"):
        assert not (tmp_path / "out" / "sub" / ".tmp-deadbeef0000-last.npz-abc123").exists()
    assert sorted(os.listdir(tmp_path / "out")) == [".hidden", ".tmp-0123456789ab-x-yz",
                                                   ".tmp-notes", "last.npz", "sub"]


def test_a_claimed_folder_is_refused_to_a_second_holder_and_checked_after_the_lock(tmp_path):
    import fcntl
    (tmp_path / "out").mkdir()
    holder = open(tmp_path / "out" / ".lock", "a+")
    fcntl.flock(holder, fcntl.LOCK_EX)
    holder.write('{"pid": 4242, "job": "other"}')
    holder.flush()
    checked = []
    with pytest.raises(FolderInUse, match="pid 4242"):
        claim_folder(tmp_path / "out", "test job", usable=checked.append)
    assert checked == []  # the check comes after the lock
    holder.close()
    with claim_folder(tmp_path / "out", "test job", usable=checked.append) as claim:
        assert checked == [claim] and not claim.created
    assert os.listdir(tmp_path / "out") == []  # the lock goes at the end


def test_a_lock_that_is_a_link_is_refused_and_its_target_untouched(tmp_path):
    (tmp_path / "victim.txt").write_text("mine\n")
    (tmp_path / "out").mkdir()
    os.symlink(tmp_path / "victim.txt", tmp_path / "out" / ".lock")
    with pytest.raises(OSError, match="lock"):
        claim_folder(tmp_path / "out", "test job")
    assert (tmp_path / "victim.txt").read_text() == "mine\n"


def test_a_folder_the_claim_made_goes_when_nothing_was_written(tmp_path):
    with claim_folder(tmp_path / "new", "test job") as claim:
        assert claim.created and os.listdir(tmp_path / "new") == [".lock"]
    assert not (tmp_path / "new").exists()
    with pytest.raises(OSError, match="symbolic link"):
        os.symlink(tmp_path, tmp_path / "link")
        claim_folder(tmp_path / "link", "test job")


@pytest.mark.parametrize("content, message", [
    (b"", "an .npz is a zip archive"),
    (np.random.default_rng(0).bytes(2000), "an .npz is a zip archive"),
    (b"PK\x03\x04" + bytes(100), "truncated or corrupt"),
])
def test_files_that_are_no_npz_say_so(tmp_path, content, message):
    path = tmp_path / "last.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        load_npz(path)
    assert str(path) in str(error.value)


def test_pickled_arrays_are_refused_by_name(tmp_path):
    np.savez(tmp_path / "p.npz", a=np.array([{"code": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickled Python objects"):
        load_npz(tmp_path / "p.npz")


def test_a_new_folder_appears_whole_or_not_at_all(tmp_path):
    with new_folder(tmp_path / "eyes") as staging:
        assert not (tmp_path / "eyes").exists()  # not visible before it is whole
        open(os.path.join(staging, "a.png"), "wb").close()
    assert os.listdir(tmp_path / "eyes") == ["a.png"]
    with pytest.raises(KeyboardInterrupt):
        with new_folder(tmp_path / "more") as staging:
            open(os.path.join(staging, "a.png"), "wb").close()
            raise KeyboardInterrupt
    assert sorted(os.listdir(tmp_path)) == ["eyes"]


def test_a_new_folder_clears_what_a_killed_run_of_its_job_left_and_nothing_else(tmp_path):
    (tmp_path / ".tmp-eyes-mine").mkdir()   # a user's, however it is named
    _left_by_a_killed_writer(tmp_path / "eyes.partial", job="new folder")
    (tmp_path / "eyes.partial" / "0.png").write_bytes(b"x")
    with new_folder(tmp_path / "eyes"):
        pass
    assert sorted(os.listdir(tmp_path)) == [".tmp-eyes-mine", "eyes"]
    assert os.listdir(tmp_path / "eyes") == []
    (tmp_path / "eyes" / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="not empty"):
        with new_folder(tmp_path / "eyes"):
            pass
    assert os.listdir(tmp_path / "eyes") == ["mine.txt"]


def test_a_partial_folder_that_is_not_a_stopped_run_of_the_job_is_refused(tmp_path):
    (tmp_path / "eyes.partial").mkdir()
    (tmp_path / "eyes.partial" / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="was not left by a stopped"):
        with new_folder(tmp_path / "eyes"):
            pass
    assert os.listdir(tmp_path / "eyes.partial") == ["mine.txt"]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_eta_covers_every_phase_and_untimed_ones_by_their_cost():
    clock = Clock()
    progress = Progress("train", {"a": (10, 0, 1.0), "b": (5, 0, 4.0)}, bar=False, every_s=None,
                        clock=clock)
    assert progress.eta_s() is None
    progress.start("a")
    for _ in range(4):
        clock.now += 2.0
        progress.advance()
    # a: 6 steps left at 2 s; b never ran: 5 steps of cost 4 at 2 s per unit of cost
    assert progress.eta_s() == pytest.approx(6 * 2.0 + 5 * 4 * 2.0)
    assert progress.fraction_done() == pytest.approx(4 / 30)
    for _ in range(6):
        clock.now += 2.0
        progress.advance()
    progress.start("b")
    clock.now += 3.0
    progress.advance()
    assert progress.eta_s() == pytest.approx(4 * 3.0)  # measured now


def test_plain_status_lines_come_every_so_often_and_at_the_end_of_a_phase():
    clock, stream = Clock(), io.StringIO()
    progress = Progress("refine", {"images": (10, 0, 1.0)}, bar=False, every_s=30, clock=clock,
                        stream=stream)
    progress.start("images")
    for _ in range(10):
        clock.now += 10.0
        progress.advance(figures={"img/s": 12.5})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4  # at 30, 60 and 90 s, and at the end
    assert lines[0] == "refine: images 3/10 (30% of the job) | img/s 12.5 | elapsed 0:30 | ETA 1:10"
    assert lines[-1].startswith("refine: images 10/10 (100% of the job)")


def test_format_seconds():
    assert [format_seconds(s) for s in (0, 75, 3725, None)] == ["0:00", "1:15", "1:02:05", "?"]


def test_the_first_ctrl_c_is_a_request_and_the_second_stops_at_once():
    stream = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        with StopRequests(stream=stream) as stop:
            os.kill(os.getpid(), signal.SIGINT)
            assert stop.requested == "SIGINT" and "press Ctrl-C again" in stream.getvalue()
            os.kill(os.getpid(), signal.SIGINT)
            pytest.fail("the second Ctrl-C did not interrupt")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
