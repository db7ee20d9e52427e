"""Settings: defaults, round trip, unreadable files kept aside, and what the engine and CLI take from them."""

from __future__ import annotations

import json

import pytest

from strongroom.core.engine import Engine
from strongroom.core.paths import resolve_paths
from strongroom.core.settings import Settings, SettingsError, load_settings, save_settings

from .conftest import cli
from .trees import make_tree


def test_missing_file_means_defaults(tmp_path):
    loaded = load_settings(tmp_path / "settings.json")
    assert loaded.settings == Settings() and loaded.problem == ""


def test_round_trip(tmp_path):
    path = tmp_path / "cfg" / "settings.json"
    chosen = Settings(default_target=str(tmp_path / "t"), lock_scope="machine", compression_level=9,
                      verify_after_backup=False)
    save_settings(path, chosen)
    assert load_settings(path).settings == chosen


@pytest.mark.parametrize("content, reason", [
    (b"{not json", "unreadable"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"compression_level": 99}', "out of range"),
    (b'{"lock_scope": "galaxy"}', "lock scope"),
    (b'{"default_target": "relative/dir"}', "absolute"),
])
def test_unreadable_settings_are_reported_and_kept_aside(tmp_path, content, reason):
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    loaded = load_settings(path)
    assert loaded.settings == Settings()
    assert str(path) in loaded.problem and reason in loaded.problem
    save_settings(path, Settings(compression_level=5))
    assert (tmp_path / "settings.json.unreadable").read_bytes() == content
    assert load_settings(path).settings.compression_level == 5


def test_bad_values_are_refused_with_the_value_named():
    with pytest.raises(SettingsError, match="compression level 0"):
        Settings(compression_level=0)


def test_save_to_an_unwritable_place_names_it(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SettingsError, match="cannot save the settings"):
        save_settings(blocker / "settings.json", Settings())


def test_engine_and_cli_use_the_settings(tmp_path, home):
    target = tmp_path / "elsewhere"
    paths = resolve_paths(home)
    save_settings(paths.settings, Settings(default_target=str(target), compression_level=7, verify_after_backup=False))
    engine = Engine(paths)
    assert engine.default_target == target
    options = engine.default_backup_options(incremental=True)
    assert (options.level, options.verify, options.incremental) == (7, False, True)
    source = make_tree(tmp_path / "src", {"a.txt": "a", "d/b.txt": "bb", "c.bin": b"\0" * 100})
    assert cli(home, "store", "add", "docs", "--type", "folder", str(source)).returncode == 0
    result = cli(home, "backup", "docs", "--json")
    assert result.returncode == 0, result.stderr
    set_id = json.loads(result.stdout)[0]["set_id"]
    assert (target / "docs" / f"{set_id}.tar.zst").is_file()
    assert engine.catalog.get_set(set_id).verified is None  # verify after backup is off in the settings


def test_job_log_is_kept_in_history_and_stores_can_be_moved(tmp_path, engine):
    first = make_tree(tmp_path / "a", {"one.txt": "1"})
    second = make_tree(tmp_path / "b", {"two.txt": "2"})
    engine.add_store("docs", "folder", str(first))
    job = engine.backup_job("docs")
    job.run()
    record = engine.catalog.get_job(job.id)
    assert record.log == job.stamped_log() and any("recorded" in line for line in record.log)
    assert engine.catalog.list_jobs()[0].log == []  # the list stays light
    assert engine.update_store("docs", str(second)).path == str(second)
    assert engine.store("docs").path == str(second)
    with pytest.raises(Exception, match="no such|not|does not exist"):
        engine.update_store("docs", str(tmp_path / "missing"))
    assert cli(engine.paths.data_dir, "jobs", "--log", job.id).stdout.strip().splitlines() == job.stamped_log()


def test_store_size_counts_the_whole_point_in_time_of_an_incremental_set(tmp_path, engine):
    from strongroom.core.store_overview import store_overviews

    source = make_tree(tmp_path / "docs", {"big.bin": b"x" * 10_000, "small.txt": "s"})
    engine.add_store("docs", "folder", str(source))
    engine.backup_job("docs").run()
    (source / "small.txt").write_text("changed")
    engine.backup_job("docs", engine.default_backup_options(incremental=True)).run()
    full, incremental = engine.catalog.list_sets("docs")
    assert (full.bytes, full.store_bytes) == (10_001, 10_001)
    assert (incremental.bytes, incremental.store_bytes) == (7, 10_007)
    [overview] = store_overviews(engine.catalog)
    assert overview.size == 10_007 and overview.result == "succeeded"


def test_console_takes_the_lock_scope_from_settings_unless_told(tmp_path, monkeypatch):
    from strongroom.gui.app import build_parser, console_paths

    monkeypatch.delenv("STRONGROOM_LOCK_SCOPE", raising=False)
    home = tmp_path / "home"
    save_settings(resolve_paths(home).settings, Settings(lock_scope="machine"))
    assert console_paths(build_parser().parse_args(["--home", str(home)])).lock_scope == "machine"
    told = build_parser().parse_args(["--home", str(home), "--lock-scope", "user"])
    assert console_paths(told).lock_scope == "user"
    monkeypatch.setenv("STRONGROOM_LOCK_SCOPE", "user")
    assert console_paths(build_parser().parse_args(["--home", str(home)])).lock_scope == "user"
