"""Inputs never lose or repeat a file (issue 19): a directory entry that cannot be read is an error
naming it, or with `skip_unreadable` a skip the report lists; a file reached through several links is
read (and sent) once; link loops end; a link out of the tree is read only when asked."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import app_opens, write_jsonl

import adrop_kit as ak
from adrop_kit.cli import main
from adrop_kit.errors import DataReadError
from adrop_kit.io.parts import resolve_inputs
from adrop_kit.send.sender import Sender
from adrop_kit.send.transport import Request, Response

OK = Response(200, b'{"message":"ok"}')


class Recorder:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def handle(self, request: Request) -> Response:
        self.bodies.append(request.body)
        return OK

    def close(self) -> None:
        pass


def export(tmp_path: Path) -> Path:
    """export/a.jsonl (2 rows), export/dt=1/b.jsonl (3 rows): 5 distinct events."""
    root = tmp_path / "export"
    write_jsonl(root / "a.jsonl", app_opens(2, "a"))
    write_jsonl(root / "dt=1" / "b.jsonl", app_opens(3, "b"))
    return root


def test_self_links_and_links_to_files_inside_read_every_file_once(tmp_path):
    root = export(tmp_path)
    (root / "loop").symlink_to(".")                      # a link to the directory itself
    (root / "dt=1" / "up").symlink_to("..")              # and one to its parent: two loops
    (root / "again.jsonl").symlink_to("a.jsonl")         # another name for a file
    os.link(root / "a.jsonl", root / "hard.jsonl")       # a hard link: the same inode
    report = ak.validate_events(root)
    assert report.rows == 5 and sorted(report.sources) == ["a.jsonl", "dt=1/b.jsonl"]
    assert any("again.jsonl (the file a.jsonl again" in s for s in report.skipped)
    assert any(s.startswith("loop/ (the directory") for s in report.skipped)
    sent = Recorder()
    with Sender("sk-test-key-123456", transport=sent, progress=False) as s:
        out = s.send_all(root)
    assert out.delivered == 5 and len(sent.bodies) == len(set(sent.bodies)) == 5  # each event sent once


def test_one_file_named_twice_in_a_list_is_read_once(tmp_path):
    root = export(tmp_path)
    inputs = resolve_inputs([str(root / "a.jsonl"), str(root / "." / "a.jsonl"), str(root)])
    assert [p.label for p in inputs.parts].count(str(root / "a.jsonl")) == 1
    assert len(inputs.parts) == 2 and len(inputs.skipped) == 2  # ./a.jsonl and dir/a.jsonl: the same file


def test_a_link_that_loops_on_itself_is_an_error_naming_it_or_a_listed_skip(tmp_path):
    root = export(tmp_path)
    (root / "self.jsonl").symlink_to("self.jsonl")
    with pytest.raises(DataReadError, match=r"self\.jsonl: a broken link") as info:
        ak.validate_events(root)
    assert "--skip-unreadable" in str(info.value) and "\n" not in str(info.value)
    report = ak.validate_events(root, skip_unreadable=True)
    assert report.rows == 5 and report.unread == (report.unread[0],) and "self.jsonl" in report.unread[0]


def test_a_link_out_of_the_tree_is_read_only_when_asked_and_is_listed(tmp_path):
    root = export(tmp_path)
    outside = write_jsonl(tmp_path / "elsewhere" / "x.jsonl", app_opens(4, "x"))
    (root / "x.jsonl").symlink_to(outside)
    with pytest.raises(DataReadError, match=r"x\.jsonl: a link out of the input directory .*--follow-links"):
        ak.validate_events(root)
    followed = ak.validate_events(root, follow_links=True)
    assert followed.rows == 9 and followed.linked == (f"x.jsonl -> {outside}",)
    skipped = ak.validate_events(root, skip_unreadable=True)
    assert skipped.rows == 5 and "x.jsonl: a link out of the input directory" in skipped.unread[0]
    assert json.loads(json.dumps(followed.to_dict()))["linked"] == [f"x.jsonl -> {outside}"]


def test_a_file_name_that_is_not_utf8_is_an_escaped_error_or_a_listed_skip(tmp_path, capsys):
    root = export(tmp_path)
    bad = os.fsencode(root) + b"/caf\xe9.jsonl"
    with open(bad, "wb") as fh:
        fh.write(b'{"uid":"u","eventName":"app_open"}\n')
    with pytest.raises(DataReadError, match=r"caf\\xe9\.jsonl: the file name is not valid UTF-8"):
        ak.validate_events(root)
    assert main(["validate", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "caf\\xe9.jsonl" in err and "Traceback" not in err
    assert main(["validate", str(root), "--skip-unreadable"]) == 0
    shown = capsys.readouterr().out
    assert "not read (1): caf\\xe9.jsonl: the file name is not valid UTF-8" in shown


def test_a_directory_that_cannot_be_listed_stops_the_run_or_is_skipped_and_listed(tmp_path, monkeypatch, capsys):
    root = export(tmp_path)
    locked = root / "dt=1"
    real_scandir = os.scandir

    def scandir(path="."):  # as root, chmod 000 does not stop us: make the directory refuse
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(DataReadError, match=r"dt=1/: cannot list this directory \(permission denied\)"):
        ak.validate_events(root)
    report = ak.validate_events(root, skip_unreadable=True)
    assert report.rows == 2 and report.unread == ("dt=1/: cannot list this directory (permission denied)",)
    assert main(["validate", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dt=1/" in err
    assert main(["send", str(root), "--dry-run", "--no-progress"]) == 2  # nothing is sent from a partial input
    capsys.readouterr()
    assert main(["send", str(root), "--dry-run", "--no-progress", "--skip-unreadable"]) == 0
    assert "not read (1): dt=1/: cannot list this directory" in capsys.readouterr().out


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a directory whatever its permissions")
def test_a_directory_without_permission_is_an_error_for_a_user(tmp_path):
    root = export(tmp_path)
    (root / "dt=1").chmod(0)
    try:
        with pytest.raises(DataReadError, match="dt=1/: cannot list"):
            ak.validate_events(root)
    finally:
        (root / "dt=1").chmod(0o755)


def test_a_name_with_a_newline_and_an_escape_sequence_prints_escaped_everywhere(tmp_path, capsys):
    root = tmp_path / "export"
    write_jsonl(root / "ok.jsonl", app_opens(1))
    write_jsonl(root / "evil\n\x1b[31mred.jsonl", [{"uid": "", "eventName": "app_open"}])
    assert main(["validate", str(root)]) == 1
    shown = capsys.readouterr().out
    assert "\x1b" not in shown and "evil\\n\\x1b[31mred.jsonl" in shown
    assert all("red.jsonl" not in line or "evil" in line for line in shown.splitlines())  # one line, not two
    missing = str(tmp_path / "no\x1b[2Jsuch.jsonl")
    assert main(["validate", missing]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "no\\x1b[2Jsuch.jsonl" in err
