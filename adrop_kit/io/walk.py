"""Walking an input directory so that no file is lost and none is read twice.

`walk(root, rules)` lists a directory's dataset files, recursively and in sorted order, as
`(path, label)` pairs, each label the path relative to `root`. What it meets on the way:

- an entry that cannot be listed, stat'ed or opened (a subdirectory without permission, a broken
  or looping link, a file name that is not UTF-8, a file that cannot be read) is a `DataReadError`
  naming it (escaped), or, with `skip_unreadable`, an entry of `Walk.unread` (`name: why`);
- each file is read once however many links lead to it, and each directory walked once: files and
  directories are known by `(st_dev, st_ino)`, so a link to a directory already walked (`loop -> .`)
  or to a file already listed is a note in `Walk.skipped`, not a second copy;
- a link pointing out of `root` is followed only with `follow_links` (and listed in `Walk.linked`);
  otherwise it is an unreadable entry (an error naming it, or skipped and listed with
  `skip_unreadable`): a file outside the tree is never read, nor dropped, without a word;
- what writers leave beside the data (hidden and `_`-named entries, `.crc` files, files of no
  dataset format) goes to `Walk.skipped`, as before.

`Seen` is shared by every item of one input (a list of paths, globs and directories), so a file
named twice under two names is read once there too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from adrop_kit.errors import DataReadError
from adrop_kit.support.labels import escape


@dataclass
class Seen:
    """The files and directories an input has taken so far, by `(st_dev, st_ino)` → label."""

    files: dict[tuple[int, int], str] = field(default_factory=dict)
    dirs: dict[tuple[int, int], str] = field(default_factory=dict)

    def take_file(self, st: os.stat_result, label: str) -> str | None:
        """None when the file is new (it is now taken), else the label it was taken under."""
        key = (st.st_dev, st.st_ino)
        first = self.files.get(key)
        if first is None:
            self.files[key] = label
        return first


@dataclass
class Walk:
    """What a walk found: the files to read, and everything it did not read, with why."""

    files: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    linked: list[str] = field(default_factory=list)


def beside_data(name: str, is_dir: bool) -> bool:
    """What writers leave beside the data: hidden and `_`-named entries (a Hive key `_x=1/` is data)."""
    if is_dir:
        return name.startswith((".", "_")) and "=" not in name
    return name.startswith((".", "_")) or name.lower().endswith(".crc")


class Walker:
    """One directory walk (see the module docstring). `is_dataset(path)`: whether a file's name has
    a dataset format; `skip_unreadable` / `follow_links`: the options."""

    def __init__(self, root: Path, is_dataset: Callable[[Path], bool], seen: Seen, *,
                 skip_unreadable: bool = False, follow_links: bool = False):
        self.root = root
        self.real_root = os.path.realpath(root)
        self.is_dataset = is_dataset
        self.seen = seen
        self.skip_unreadable = skip_unreadable
        self.follow_links = follow_links
        self.out = Walk()

    def run(self) -> Walk:
        st = os.stat(self.root)
        self.seen.dirs[(st.st_dev, st.st_ino)] = "."
        self._dir(self.root, "")
        self.out.files.sort(key=lambda f: f[1])
        self.out.skipped.sort()
        return self.out

    def _inside(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real == self.real_root or real.startswith(self.real_root.rstrip(os.sep) + os.sep)

    def _unreadable(self, rel: str, why: str) -> None:
        shown = escape(rel)
        if not self.skip_unreadable:
            raise DataReadError(f"{escape(self.root)}: {shown}: {why}; fix it or pass --skip-unreadable "
                                "(skip_unreadable=True) to read the rest and list it")
        self.out.unread.append(f"{shown}: {why}")

    def _dir(self, path: Path, rel: str) -> None:
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self._unreadable(rel + "/" if rel else ".", f"cannot list this directory ({_why(exc)})")
            return
        for entry in entries:
            self._entry(entry, f"{rel}/{entry.name}" if rel else entry.name)

    def _entry(self, entry: os.DirEntry[str], rel: str) -> None:
        name = entry.name
        link = False
        try:
            link = entry.is_symlink()
            is_dir = entry.is_dir()  # follows a link
        except OSError as exc:  # a link that loops (`a -> a`)
            self._unreadable(rel, f"{'a broken link' if link else 'cannot be read'} ({_why(exc)})")
            return
        if beside_data(name, is_dir):
            self.out.skipped.append(escape(rel + "/" if is_dir else rel))
            return
        if not is_dir and not self.is_dataset(Path(name)):
            self.out.skipped.append(escape(rel))
            return
        if not decodes(name):
            self._unreadable(rel, "the file name is not valid UTF-8 (rename it)")
            return
        try:
            st = os.stat(entry.path)  # follows links; a loop (`a -> a`) or a broken link raises
        except OSError as exc:
            self._unreadable(rel, f"{'a broken link' if link else 'cannot be read'} ({_why(exc)})")
            return
        if link and not self._inside(entry.path):
            target = escape(os.path.realpath(entry.path))
            if not self.follow_links:
                self._unreadable(rel, f"a link out of the input directory (to {target}), not followed; "
                                      "--follow-links (follow_links=True) reads it")
                return
            self.out.linked.append(f"{escape(rel)} -> {target}")
        if stat.S_ISDIR(st.st_mode):
            first = self.seen.dirs.get((st.st_dev, st.st_ino))
            if first is not None:
                self.out.skipped.append(escape(f"{rel}/ (the directory {first}/ again: read once)"))
                return
            self.seen.dirs[(st.st_dev, st.st_ino)] = rel
            self._dir(Path(entry.path), rel)
            return
        if stat.S_ISREG(st.st_mode) and not os.access(entry.path, os.R_OK):
            self._unreadable(rel, "cannot be read (permission denied)")
            return
        first = self.seen.take_file(st, rel)
        if first is not None:
            self.out.skipped.append(escape(f"{rel} (the file {first} again: read once)"))
            return
        self.out.files.append((Path(entry.path), escape(rel)))  # a label prints on one line


def decodes(name: str) -> bool:
    """Whether a file name is UTF-8 (a name `os.fsdecode` had to escape is not)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode's surrogates: bytes that are not UTF-8
        return False
    return True


def _why(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)


__all__ = ["Seen", "Walk", "Walker", "beside_data", "decodes"]
