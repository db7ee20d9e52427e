"""What a folder backup leaves out: gitignore-style patterns, cache folders, files over a size.

- **Patterns** are matched as git matches a ``.gitignore`` at the store's root (pathspec's
  ``GitIgnoreSpec``): ``*.tmp``, ``build/`` (folders only), ``/top.txt`` (at the root only),
  ``**/cache``, and ``!keep.log`` to take one back. A folder that is left out is not
  entered, so, as in git, nothing below it can be taken back.
- **CACHEDIR.TAG** (https://bford.info/cachedir/): a folder holding a tag that starts with
  the standard signature keeps the folder and its tag, and loses everything else, as
  ``tar --exclude-caches`` does.
- **Size**: files larger than the limit are left out.

Rules come from the store, the plan and the command line together. Every item left out
is counted by the rule that left it out; the job's result and the backup summary show
the counts, and ``backup --dry-run`` lists each item.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import pathspec

from ..units import human_bytes
from .base import StoreError

CACHEDIR_TAG = "CACHEDIR.TAG"
CACHEDIR_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"
CACHES_RULE = "CACHEDIR.TAG"


class ExcludeError(StoreError):
    """Rules that cannot be used as given."""


@dataclass(frozen=True)
class ExcludeRules:
    patterns: tuple[str, ...] = ()
    caches: bool = False
    max_file_size: int | None = None

    def __bool__(self) -> bool:
        return bool(self.patterns or self.caches or self.max_file_size)

    def merged(self, other: ExcludeRules | None) -> ExcludeRules:
        if not other:
            return self
        sizes = [size for size in (self.max_file_size, other.max_file_size) if size is not None]
        return ExcludeRules(self.patterns + tuple(p for p in other.patterns if p not in self.patterns),
                            self.caches or other.caches, min(sizes) if sizes else None)

    def document(self) -> dict:
        return {"patterns": list(self.patterns), "caches": self.caches, "max_file_size": self.max_file_size}

    @classmethod
    def from_document(cls, document: object, where: str) -> ExcludeRules:
        if not isinstance(document, dict):
            raise ExcludeError(f"the exclude rules of {where} are damaged: set them again")
        patterns, caches, size = document.get("patterns", []), document.get("caches", False), \
            document.get("max_file_size")
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns) \
                or type(caches) is not bool or not (size is None or (type(size) is int and size > 0)):
            raise ExcludeError(f"the exclude rules of {where} are damaged: set them again")
        return cls(tuple(patterns), caches, size).checked()

    def checked(self) -> ExcludeRules:
        """These rules, every pattern compiled once (ExcludeError names one that cannot be)."""
        for pattern in self.patterns:
            if not pattern.strip() or "\0" in pattern:
                raise ExcludeError(f"{pattern!r} is not an exclude pattern")
            try:
                pathspec.GitIgnoreSpec.from_lines([pattern])
            except (ValueError, TypeError) as error:
                raise ExcludeError(f"{pattern!r} is not an exclude pattern: {error}") from None
        return self

    def describe(self) -> str:
        parts = [f"'{pattern}'" for pattern in self.patterns]
        if self.caches:
            parts.append("folders with a CACHEDIR.TAG")
        if self.max_file_size:
            parts.append(f"files over {human_bytes(self.max_file_size)}")
        return ", ".join(parts) if parts else "nothing"


Excluded = Callable[[str, str], None]  # (path, rule) of each item left out


class Excluder:
    """The rules compiled for one walk, with the count of what each rule left out."""

    def __init__(self, rules: ExcludeRules, on_excluded: Excluded | None = None) -> None:
        self.rules = rules
        self._spec = pathspec.GitIgnoreSpec.from_lines(rules.patterns) if rules.patterns else None
        self._size_rule = f"size limit {human_bytes(rules.max_file_size)}" if rules.max_file_size else ""
        self._on_excluded = on_excluded
        self.tally: dict[str, list[int]] = {}  # rule -> [items, bytes of files]

    def excludes(self, path: str, kind: str, status: os.stat_result) -> bool:
        """Whether the item at ``path`` (relative to the store) is left out; counted when it is."""
        rule = None
        if self._spec is not None:
            result = self._spec.check_file(path + "/" if kind == "dir" else path)
            if result.include:
                rule = f"pattern '{self.rules.patterns[result.index]}'"
        if rule is None and kind == "file" and self.rules.max_file_size and status.st_size > self.rules.max_file_size:
            rule = self._size_rule
        if rule is None:
            return False
        self._count(rule, path, status.st_size if kind == "file" else 0)
        return True

    def folder_names(self, fd: int, path: str, names: list[str]) -> list[str]:
        """The names of a folder's contents to walk: only its tag, when it is a tagged cache folder."""
        if not self.rules.caches or CACHEDIR_TAG not in names or not _is_cache_tag(fd):
            return names
        for name in names:
            if name != CACHEDIR_TAG:
                self._count(CACHES_RULE, f"{path}/{name}" if path else name, 0)
        return [CACHEDIR_TAG]

    def _count(self, rule: str, path: str, size: int) -> None:
        counts = self.tally.setdefault(rule, [0, 0])
        counts[0] += 1
        counts[1] += size
        if self._on_excluded is not None:
            self._on_excluded(path, rule)

    def summary(self) -> str:
        return tally_summary(self.tally)


def tally_summary(tally: dict[str, list[int]]) -> str:
    """"12 by pattern '*.tmp' (3.1 MiB); 4 by CACHEDIR.TAG", or "" when nothing was left out."""
    return "; ".join(f"{items} by {rule}" + (f" ({human_bytes(size)})" if size else "")
                     for rule, (items, size) in sorted(tally.items()))


def _is_cache_tag(folder_fd: int) -> bool:
    """The folder's CACHEDIR.TAG is a regular file that starts with the signature (read without following links)."""
    try:
        fd = os.open(CACHEDIR_TAG, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder_fd)
    except OSError:
        return False
    try:
        return os.pread(fd, len(CACHEDIR_SIGNATURE), 0) == CACHEDIR_SIGNATURE
    except OSError:
        return False
    finally:
        os.close(fd)
