"""The verify job: read a set and check every byte against its manifest."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..archive import ArchiveError, Expected, SetReader, VerifyReport, verify_set
from ..catalog import CatalogError, SetRecord
from ..remedies import Remedy, with_fix
from ..store_types import StoreTypeError
from ..stores import driver_for
from ..stores.database_driver import DatabaseDriver, DumpContents
from .job import Job, JobCallbacks

if TYPE_CHECKING:
    from .services import JobServices


class VerifyJob(Job):
    """Verify a set given by id (from the catalog) or by file path. Needs no mutex: no store is touched."""

    operation = "verify"
    MIRRORED = (*Job.MIRRORED, "report")

    def __init__(self, engine: JobServices, set_id_or_file: str, *, untrusted: bool = False,
                 deep: str | None = None) -> None:
        """A set file the catalog does not know is verified only when ``untrusted`` says it was asked for.

        ``deep`` (a database set): also load the set into a throwaway database on the server at that URL
        ("": the store's own server) and check it there.
        """
        self.deep = deep
        self.path, self.set_record = _locate(engine, set_id_or_file)
        if self.set_record is None and not untrusted:
            raise with_fix(CatalogError(f"{self.path} is not a set of this catalog (copied from elsewhere?): nothing "
                                        "vouches for it"), Remedy.VERIFY_UNTRUSTED)
        if self.set_record is not None:  # the catalog knows; the set is read only once, by verify
            record = self.set_record
            store, store_type, self.total_bytes = record.store, record.store_type, record.bytes
            self.total_files = record.files
        else:
            with SetReader(self.path) as reader:
                manifest = reader.manifest
                store, store_type, self.total_bytes = manifest.store, manifest.store_type, manifest.bytes
                self.total_files = manifest.files
        super().__init__(engine, store, store_type)
        self.set_id = self.set_record.id if self.set_record else None
        self.report: VerifyReport | None = None

    def _execute(self) -> None:
        self._running()
        self.meter.set_totals(self.total_files, self.total_bytes)

        def on_data(size: int, path: str) -> None:
            self.check_cancelled()
            self.meter.advance(size, path=path)

        def on_member(entry) -> None:
            if entry.type == "file":
                self.meter.advance(files=1)

        expected = None
        if self.set_record is not None:
            record = self.set_record
            expected = Expected(record.id, record.stored_bytes, record.manifest_sha256)
        report = verify_set(self.path, on_data, expected, on_member)
        self.report = report
        if report.ok:
            self._check_contents(report, expected)
        if not report.ok:
            if self.set_record is not None:  # a damaged set no longer counts toward retention (prune)
                self.engine.catalog.mark_damaged(self.set_record.id, report.summary())
            raise ArchiveError(report.summary())
        if self.set_record is not None:
            self.engine.catalog.mark_verified(self.set_record.id)
        self.log(report.summary())


    def _check_contents(self, report: VerifyReport, expected: Expected | None) -> None:
        """A database set's bytes are intact: now check that its dump is whole and well-formed (no server needed)."""
        try:
            driver = driver_for(self.store_type)
        except StoreTypeError:
            return
        if not isinstance(driver, DatabaseDriver):
            if self.deep is not None:
                self.warn(f"a {self.store_type} set has no deep check (it is for database sets): its bytes were "
                          "checked")
            return
        with SetReader(self.path, expected=expected) as reader:
            contents = DumpContents(reader, reader.manifest)
            problems = driver.check_set(contents, self.check_cancelled)
            if not problems:
                self.log(f"the {self.store_type} dump in the set is whole and well-formed")
                if self.deep is not None:
                    server = driver.location(self.deep or reader.manifest.source)
                    problems = driver.deep_check(server, contents, JobCallbacks(self), self.log)
                    if not problems:
                        self.log(f"loaded into a throwaway database on {server.server} and checked there: sound")
        report.problems.extend(problems)


def _locate(engine: JobServices, set_id_or_file: str) -> tuple[Path, SetRecord | None]:
    try:
        record = engine.catalog.get_set(set_id_or_file)
        return Path(record.path), record
    except CatalogError:
        path = Path(set_id_or_file)
        if path.is_file():
            known = engine.catalog.set_at(str(path.absolute()))  # a catalogued set named by its file
            return path.absolute(), known
        raise with_fix(CatalogError(f"{set_id_or_file!r} is neither a backup set id nor a set file"),
                       Remedy.LIST_SETS) from None
