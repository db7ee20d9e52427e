"""A set's contents as a checkable tree, built once from its manifest, with a name filter.

The node tree is built off the GUI thread (``build_tree``) and the model only wraps
it, so even a set of many thousands of files opens at once. With a filter the model
shows the matching items as a flat list of paths (the fastest way to find a file).
Ticking an item selects it with everything below it.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from ...core.archive import ROOT, Entry, SetManifest, display_path
from ...core.archive.page_delta import logical_path
from ...core.units import human_bytes, human_time

COLUMNS = ("Name", "Size", "Modified", "Type")
MAX_MATCHES = 5000  # rows a filter shows at most
TYPE_LABELS = {"file": "file", "dir": "folder", "symlink": "link", "hardlink": "hard link", "fifo": "FIFO"}


class Node:
    __slots__ = ("name", "path", "entry", "parent", "children", "row", "size", "files")

    def __init__(self, name: str, path: str, parent: Node | None) -> None:
        self.name = name
        self.path = path
        self.entry: Entry | None = None
        self.parent = parent
        self.children: list[Node] = []
        self.row = 0
        self.size = 0  # bytes of files at or below
        self.files = 0


def build_tree(manifest: SetManifest) -> tuple[Node, list[Node]]:
    """The root node and every node in path order (for filtering)."""
    root = Node("", "", None)
    nodes: dict[str, Node] = {"": root}
    for entry in sorted(manifest.entries, key=lambda item: item.path):
        if entry.path == ROOT:
            root.entry = entry  # the store root's own record: not a row of its own
            continue
        node = _node(logical_path(entry), nodes)  # a database's page delta shows as the database it restores
        node.entry = entry
    ordered = sorted((node for path, node in nodes.items() if path), key=lambda node: node.path)
    for node in reversed(ordered):
        if node.entry is not None and node.entry.type == "file":
            node.size += node.entry.size
            node.files += 1
        node.parent.size += node.size
        node.parent.files += node.files
    for node in [root, *ordered]:
        node.children.sort(key=lambda child: (not child.children and (child.entry is None or child.entry.type != "dir"),
                                              child.name.lower()))
        for row, child in enumerate(node.children):
            child.row = row
    return root, ordered


def _node(path: str, nodes: dict[str, Node]) -> Node:
    node = nodes.get(path)
    if node is None:
        parent_path, _, name = path.rpartition("/")
        parent = _node(parent_path, nodes)
        node = nodes[path] = Node(name, path, parent)
        parent.children.append(node)
    return node


class ManifestTreeModel(QAbstractItemModel):
    selection_changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.root = Node("", "", None)
        self.all_nodes: list[Node] = []
        self.matches: list[Node] | None = None  # None: tree mode
        self.more_matches = 0
        self.checked: set[str] = set()

    def set_tree(self, root: Node, ordered: list[Node]) -> None:
        self.beginResetModel()
        self.root, self.all_nodes, self.matches, self.checked = root, ordered, None, set()
        self.endResetModel()
        self.selection_changed.emit()

    def set_filter(self, text: str) -> None:
        needle = text.strip().lower()
        self.beginResetModel()
        if not needle:
            self.matches, self.more_matches = None, 0
        else:
            found = [node for node in self.all_nodes if needle in node.name.lower()]
            self.matches, self.more_matches = found[:MAX_MATCHES], max(0, len(found) - MAX_MATCHES)
        self.endResetModel()

    # -- selection --------------------------------------------------------------------------

    def is_checked(self, node: Node) -> bool:
        walker: Node | None = node
        while walker is not None and walker.path:
            if walker.path in self.checked:
                return True
            walker = walker.parent
        return False

    def _ancestor_checked(self, node: Node) -> bool:
        return node.parent is not None and self.is_checked(node.parent)

    def set_checked(self, path: str, checked: bool) -> None:
        if checked:
            prefix = path + "/"
            self.checked = {other for other in self.checked if not other.startswith(prefix)}
            self.checked.add(path)
        else:
            self.checked.discard(path)
        self._refresh_checks()

    def selected_paths(self) -> tuple[str, ...]:
        return tuple(sorted(self.checked))

    def selected_totals(self) -> tuple[int, int]:
        """(files, bytes) the ticked items hold."""
        nodes = {node.path: node for node in self.all_nodes}
        chosen = [nodes[path] for path in self.checked if path in nodes]
        return sum(node.files for node in chosen), sum(node.size for node in chosen)

    def _refresh_checks(self) -> None:
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
        return self.rowCount(parent) > 0

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
            return Qt.CheckState.Checked if self.is_checked(node) else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            return display_path(node.path)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column == 0:
            return display_path(node.path if self.matches is not None else node.name)
        if column == 1:
            if entry is not None and entry.type == "file":
                return human_bytes(entry.size)
            return f"{human_bytes(node.size)} in {node.files} files" if node.children else ""
        if column == 2:
            return human_time(entry.mtime_ns / 1e9) if entry is not None else ""
        if column == 3:
            return TYPE_LABELS.get(entry.type, entry.type) if entry is not None else "folder"
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != 0:
            return False
        state = value if isinstance(value, Qt.CheckState) else Qt.CheckState(value)
        self.set_checked(self.node(index).path, state == Qt.CheckState.Checked)
        return True
