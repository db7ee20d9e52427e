"""A set's contents as a checkable tree, read folder by folder as it is opened, with a name search.

Nothing is read up front: a folder's children come from the manifest's index when the
view first shows them (Qt's fetchMore), ``CHUNK`` at a time, so the first level of a
million-file set shows at once and memory holds only what was opened. A search walks
the manifest off the GUI thread (``find_matches``) and the model shows the matching
items as a flat list of paths (the fastest way to find a file). Ticking an item
selects it with everything below it.
"""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from ...core.archive import ROOT, Entry, SetManifest, display_path
from ...core.archive.page_delta import logical_path
from ...core.units import human_bytes, human_time

COLUMNS = ("Name", "Size", "Modified", "Type")
MAX_MATCHES = 5000  # rows a search shows at most
CHUNK = 2000  # children read at a time; a folder with no more than this is sorted folders first
TYPE_LABELS = {"file": "file", "dir": "folder", "symlink": "link", "hardlink": "hard link", "fifo": "FIFO"}


class Node:
    __slots__ = ("name", "path", "entry", "parent", "children", "row", "pending", "opened")

    def __init__(self, entry: Entry | None, parent: Node | None) -> None:
        self.entry = entry
        self.path = logical_path(entry) if entry is not None and entry.path != ROOT else ""
        self.name = self.path.rpartition("/")[2]  # a database's page delta shows as the database it restores
        self.parent = parent
        self.children: list[Node] = []
        self.row = 0
        self.pending: Iterator[Entry] | None = None  # children not read yet
        self.opened = False  # whether reading its children has begun

    @property
    def is_folder(self) -> bool:
        return self.entry is None or self.entry.type == "dir"


def _sort_key(node: Node) -> tuple[bool, str]:
    return not node.is_folder, node.name.lower()


def find_matches(manifest: SetManifest, text: str) -> tuple[list[Entry], int]:
    """The entries whose name holds ``text`` (case-insensitive): the first MAX_MATCHES, and how many more."""
    needle = text.strip().lower()
    found: list[Entry] = []
    more = 0
    for entry in manifest.entries:
        if entry.path != ROOT and needle in logical_path(entry).rpartition("/")[2].lower():
            if len(found) < MAX_MATCHES:
                found.append(entry)
            else:
                more += 1
    return found, more


class ManifestTreeModel(QAbstractItemModel):
    selection_changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.manifest: SetManifest | None = None
        self.root = Node(None, None)
        self.matches: list[Node] | None = None  # None: tree mode
        self.more_matches = 0
        self.checked: set[str] = set()
        self._partial: set[str] = set()  # folders with a ticked item somewhere below them
        self._ticked: dict[str, tuple[str, int]] = {}  # each ticked item's type and (a file's) size

    def set_manifest(self, manifest: SetManifest | None) -> None:
        self.beginResetModel()
        self.manifest, self.matches, self.more_matches, self.checked, self._ticked = manifest, None, 0, set(), {}
        self._partial = set()
        self.root = Node(manifest.entries.find(ROOT) if manifest is not None else None, None)
        if manifest is not None:
            self.root.children = self._take(self.root)
        self.endResetModel()
        self.selection_changed.emit()

    def set_matches(self, found: list[Entry] | None, more: int = 0) -> None:
        """Show search results (None: the tree again)."""
        self.beginResetModel()
        self.matches = None if found is None else [Node(entry, None) for entry in found]
        for row, node in enumerate(self.matches or ()):
            node.row = row
        self.more_matches = more
        self.endResetModel()

    def _take(self, node: Node) -> list[Node]:
        """The next CHUNK children of a folder (all of a small folder, sorted folders first)."""
        if not node.opened:
            node.opened = True
            node.pending = self.manifest.entries.children(node.entry.path if node.entry is not None else ROOT)
        if node.pending is None:
            return []
        fresh = []
        for entry in node.pending:
            fresh.append(Node(entry, node))
            if len(fresh) >= CHUNK:
                break
        else:
            node.pending = None
        if node.pending is None and not node.children:
            fresh.sort(key=_sort_key)
        for row, child in enumerate(fresh, start=len(node.children)):
            child.row = row
        return fresh

    # -- selection --------------------------------------------------------------------------

    def is_checked(self, node: Node) -> bool:
        return _covered(node.path, self.checked)

    def _ancestor_checked(self, node: Node) -> bool:
        parent = node.path.rpartition("/")[0]
        return bool(parent) and _covered(parent, self.checked)

    def set_checked(self, path: str, checked: bool, node: Node | None = None) -> None:
        if checked:
            prefix = path + "/"
            self.checked = {other for other in self.checked if not other.startswith(prefix)}
            self._ticked = {other: kind for other, kind in self._ticked.items() if other in self.checked}
            self.checked.add(path)
            entry = node.entry if node is not None else None
            self._ticked[path] = ("dir", 0) if entry is None else (entry.type, entry.size)
        else:
            self.checked.discard(path)
            self._ticked.pop(path, None)
        self._refresh_checks()

    def selected_paths(self) -> tuple[str, ...]:
        return tuple(sorted(self.checked))

    def selected_summary(self) -> str:
        """What the ticked items are, without reading what lies below ticked folders."""
        kinds = [self._ticked.get(path, ("dir", 0)) for path in self.checked]
        files = [size for kind, size in kinds if kind == "file"]
        folders = sum(1 for kind, _ in kinds if kind == "dir")
        others = len(kinds) - len(files) - folders
        parts = []
        if files:
            parts.append(f"{_count(len(files), 'file')} ({human_bytes(sum(files))})")
        if folders:
            parts.append(f"{_count(folders, 'folder')} with everything in {'it' if folders == 1 else 'them'}")
        if others:
            parts.append(_count(others, "link or FIFO", "links or FIFOs"))
        return ", ".join(parts)

    def _refresh_checks(self) -> None:
        self._partial = {parent for path in self.checked for parent in _ancestors(path)}
        if self.rowCount():
            self.layoutAboutToBeChanged.emit()  # check states of rows at any depth change: repaint them all
            self.layoutChanged.emit()
        self.selection_changed.emit()

    # -- Qt model ---------------------------------------------------------------------------

    def node(self, index: QModelIndex | QPersistentModelIndex) -> Node:
        return index.internalPointer() if index.isValid() else self.root

    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:
        if self.matches is not None:
            if parent.isValid() or not 0 <= row < len(self.matches):
                return QModelIndex()
            return self.createIndex(row, column, self.matches[row])
        children = self.node(parent).children
        if not 0 <= row < len(children):
            return QModelIndex()
        return self.createIndex(row, column, children[row])

    def parent(self, index=QModelIndex()):  # type: ignore[override]
        if not index.isValid() or self.matches is not None:
            return QModelIndex()
        parent = index.internalPointer().parent
        if parent is None or parent is self.root:
            return QModelIndex()
        return self.createIndex(parent.row, 0, parent)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        if parent.column() > 0:
            return 0
        if self.matches is not None:
            return 0 if parent.isValid() else len(self.matches)
        return len(self.node(parent).children)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return len(COLUMNS)

    def hasChildren(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: N802
        if self.matches is not None:
            return not parent.isValid() and bool(self.matches)
        node = self.node(parent)
        return bool(node.children) or (node.is_folder and not node.opened and self.manifest is not None)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802 (Qt naming)
        if self.matches is not None or self.manifest is None:
            return False
        node = self.node(parent)
        return node.is_folder and (not node.opened or node.pending is not None)

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> None:  # noqa: N802 (Qt naming)
        node = self.node(parent)
        fresh = self._take(node)
        if not fresh:
            return
        start = len(node.children)
        self.beginInsertRows(parent, start, start + len(fresh) - 1)
        node.children.extend(fresh)
        self.endInsertRows()

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
        if index.column() == 0 and not self._ancestor_checked(self.node(index)):
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        node = self.node(index)
        column = index.column()
        entry = node.entry
        if role == Qt.ItemDataRole.CheckStateRole and column == 0:
            if self.is_checked(node):
                return Qt.CheckState.Checked
            # a folder with ticked items below it shows so (ticking it takes everything in it)
            return Qt.CheckState.PartiallyChecked if node.path in self._partial else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            return display_path(node.path)
        if role != Qt.ItemDataRole.DisplayRole or entry is None:
            return None
        if column == 0:
            return display_path(node.path if self.matches is not None else node.name)
        if column == 1:
            return human_bytes(entry.size) if entry.type == "file" else ""
        if column == 2:
            return human_time(entry.mtime_ns / 1e9)
        if column == 3:
            return TYPE_LABELS.get(entry.type, entry.type)
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != 0:
            return False
        state = value if isinstance(value, Qt.CheckState) else Qt.CheckState(value)
        node = self.node(index)
        self.set_checked(node.path, state == Qt.CheckState.Checked, node)
        return True


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def _ancestors(path: str) -> Iterator[str]:
    """The folders above ``path``, nearest first."""
    path = path.rpartition("/")[0]
    while path:
        yield path
        path = path.rpartition("/")[0]


def _covered(path: str, checked: set[str]) -> bool:
    """Whether ``path`` or a folder above it is ticked."""
    while path:
        if path in checked:
            return True
        path = path.rpartition("/")[0]
    return False
