"""The architecture holds: core never imports Qt, and mutex names always contain the store type."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
import pkgutil
import subprocess
import sys

import pytest

import strongroom.core
from strongroom.core.mutex import LockDirectory, mutex_name
from strongroom.core.store_types import StoreTypeError, check_type_name, registered_type_names


def test_core_never_imports_qt():
    modules = [info.name for info in pkgutil.walk_packages(strongroom.core.__path__, "strongroom.core.")]
    assert "strongroom.core.mutex.type_mutex" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'PyQt')))\n"
        "print(','.join(qt))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_every_store_type_is_registered_from_the_start_by_its_own_module():
    assert set(registered_type_names()) == {"folder", "sqlite", "postgresql", "mariadb"}


def test_no_list_of_store_types_is_written_outside_their_own_modules():
    """Adding a type is adding one module: nothing else names the types in code."""
    root = Path(__file__).resolve().parents[1]
    pattern = re.compile(r"""["'](folder|sqlite|postgresql|mariadb)["']\s*[,)\]]\s*[,(\[]?\s*["'](folder|sqlite|postgresql|mariadb)["']""")
    offenders = [str(path.relative_to(root)) for folder in ("core", "gui") for path in (root / folder).rglob("*.py")
                 if pattern.search(path.read_text())]
    assert offenders == []


@pytest.mark.parametrize("first, second", list(itertools.combinations(registered_type_names(), 2)))
def test_two_store_types_never_share_a_mutex(first, second, tmp_path):
    lockdir = LockDirectory(tmp_path)
    assert first in mutex_name(first) and second in mutex_name(second)
    assert mutex_name(first) != mutex_name(second)
    for path_of in (lockdir.lock_path, lockdir.holder_path, lockdir.waiting_dir):
        assert path_of(first) != path_of(second)
        # Not even a case-insensitive file system may fold them together.
        assert str(path_of(first)).lower() != str(path_of(second)).lower()


@pytest.mark.parametrize("bad", ["", "Folder", "a.b", "../x", "x/y", "a" * 33, "1abc", "sp ace", None])
def test_malformed_type_names_are_refused(bad):
    with pytest.raises(StoreTypeError, match="not a valid store type name"):
        check_type_name(bad)


def test_the_console_never_spins_the_event_loop_by_hand():
    """Workers report through signals; the GUI thread never calls processEvents()."""
    import strongroom.gui

    folder = Path(strongroom.gui.__path__[0])
    offenders = [path.name for path in folder.rglob("*.py") if "processEvents(" in path.read_text()]
    assert offenders == []


def test_resources_hold_the_icon_and_desktop_entry():
    from importlib import resources

    root = resources.files("strongroom.resources")
    desktop = (root / "strongroom.desktop").read_text()
    assert "Exec=strongroom-gui" in desktop and "Icon=strongroom" in desktop
    for name in ("strongroom.svg", "strongroom-256.png", "strongroom-64.png"):
        assert (root / "icons" / name).is_file()


def test_every_package_folder_is_in_the_installed_distribution():
    """pyproject.toml lists packages by hand: a new folder missing there works in the editable
    install and is absent from the .deb's bundle (strongroom.core.retention once was)."""
    import tomllib

    root = Path(__file__).parent.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {f"strongroom.{top}" + "".join(f".{part}" for part in init.parent.relative_to(root / top).parts)
               for top in ("core", "gui", "resources") for init in (root / top).rglob("__init__.py")}
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_the_jobs_never_import_the_engine_that_makes_them_and_use_only_what_it_gives_them(engine):
    """core/jobs/services.py lists what a job may ask of its engine; the Engine has each of those members."""
    import ast

    from strongroom.core.jobs.services import JobServices

    given = {name for name in vars(JobServices) if not name.startswith("_")} | set(JobServices.__annotations__)
    jobs = Path(strongroom.core.__file__).parent / "jobs"
    imported, used = [], set()
    for path in jobs.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[-1] == "engine":
                imported.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Attribute) and isinstance(node.value, (ast.Name, ast.Attribute)):
                owner = node.value.attr if isinstance(node.value, ast.Attribute) else node.value.id
                if owner in ("engine", "_engine"):
                    used.add(node.attr)
    assert imported == []
    assert used and used <= given, f"jobs use engine members that services.py does not list: {used - given}"
    assert all(hasattr(engine, name) for name in given)


# Both programs take these flags, so a message may name them (a catalog or lock folder that cannot be used).
BOTH_PROGRAMS_FLAGS = re.compile(r"--home DIR|--lock-dir or STRONGROOM_LOCK_DIR")
CLI_WORDS = re.compile(r"strongroom (?:sets|backup|store|plan|locks|jobs|restore|verify|prune|agent|notify|status|browse)"
                       r"\b|(?<![\w-])--[a-z][a-z-]+")


def test_no_message_of_the_core_tells_the_user_a_command_line():
    """What to do goes in a Fix (core/remedies.py) that each front end words: the console has no flags to type.

    External programs' arguments (pg_dump --format=...) are not messages; they are lists, not prose.
    """
    import ast

    root = Path(strongroom.core.__file__).parent
    allowed = {root / "remedies.py", root / "notify" / "notice.py"}  # the CLI's words; an e-mail's pointer to the log
    found = []
    for path in root.rglob("*.py"):
        if path.is_relative_to(root / "cli") or path in allowed:
            continue
        tree = ast.parse(path.read_text())
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                text = BOTH_PROGRAMS_FLAGS.sub("", node.value)
                if " " in text.strip() and CLI_WORDS.search(text):
                    found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value.strip()[:90]}")
    assert found == []
