"""Which row paths the explorer sends."""

from __future__ import annotations

import os

from geovec.explorer.files import servable


def test_a_plain_image_is_sent(tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(b"png")
    assert servable(str(image)) == image.resolve()


def test_links_inside_the_folder_are_followed_links_out_are_not(tmp_path):
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "real.jpg"
    target.write_bytes(b"jpg")
    inside = tmp_path / "data" / "alias.jpg"
    inside.symlink_to(target)
    outside = tmp_path / "elsewhere.png"
    outside.write_bytes(b"png")
    leak = tmp_path / "data" / "leak.png"
    leak.symlink_to(outside)
    assert servable(str(inside)) == target
    assert servable(str(leak)) is None


def test_relative_dotdot_wrong_suffix_missing_and_folders_are_refused(tmp_path):
    (tmp_path / "a.png").write_bytes(b"png")
    (tmp_path / "notes.txt").write_text("secret")
    (tmp_path / "dir.png").mkdir()
    os.chdir(tmp_path)
    assert servable("a.png") is None  # not absolute
    assert servable(str(tmp_path / "x" / ".." / ".." / "etc" / "passwd")) is None
    assert servable(str(tmp_path / "notes.txt")) is None
    assert servable(str(tmp_path / "missing.png")) is None
    assert servable(str(tmp_path / "dir.png")) is None
    assert servable(None) is None and servable("") is None


def test_a_linked_parent_folder_is_not_followed(tmp_path):
    """The row names t/imgs/a.png; t/imgs became a link to another folder: its real path
    is outside the folder the row names (before issue 19 it was sent: the folder was
    resolved too, and the file is inside the folder's target)."""
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "a.png").write_bytes(b"png")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "imgs").symlink_to(tmp_path / "secret", target_is_directory=True)
    assert servable(str(tmp_path / "t" / "imgs" / "a.png")) is None
    (tmp_path / "up").symlink_to(tmp_path / "t", target_is_directory=True)
    (tmp_path / "t" / "own").mkdir()
    (tmp_path / "t" / "own" / "b.png").write_bytes(b"png")
    assert servable(str(tmp_path / "up" / "own" / "b.png")) is None  # a link higher up
    assert servable(str(tmp_path / "t" / "own" / "b.png")) == tmp_path / "t" / "own" / "b.png"
