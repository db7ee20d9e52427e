#!/usr/bin/env bash
# Build the standalone bundle (PyInstaller) and the Debian package (dpkg-deb).
#
#   packaging/build.sh            -> dist/strongroom/ (the bundle) and dist/strongroom_<version>_<arch>.deb
#
# Uses a build environment of its own (build/package-venv) with a pinned PyInstaller and
# Strongroom installed from this tree (not editable), so the bundle holds exactly what a
# user would get.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
PYINSTALLER_VERSION=6.22.3
VENV=build/package-venv
OUT=dist

if [ ! -x "$VENV/bin/pyinstaller" ]; then
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet "pyinstaller==$PYINSTALLER_VERSION"
fi
"$VENV/bin/python" -m pip install --quiet .  # its dependencies
"$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps .  # and this tree's code, fresh
VERSION=$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("strongroom"))')

echo "building the bundle (PyInstaller $PYINSTALLER_VERSION, strongroom $VERSION)"
rm -rf "$OUT/strongroom" build/pyinstaller
"$VENV/bin/pyinstaller" --noconfirm --log-level ERROR --distpath "$OUT" --workpath build/pyinstaller \
  packaging/strongroom.spec
echo "bundle: $OUT/strongroom ($(du -sh "$OUT/strongroom" | cut -f1))"

if ! command -v dpkg-deb >/dev/null; then
  echo "dpkg-deb not found: the .deb is built on Debian or Ubuntu only" >&2
  exit 0
fi
ARCH=$(dpkg --print-architecture)
DEB_ROOT=build/deb
rm -rf "$DEB_ROOT"
mkdir -p "$DEB_ROOT/DEBIAN" "$DEB_ROOT/opt" "$DEB_ROOT/usr/bin" "$DEB_ROOT/usr/share/applications" \
  "$DEB_ROOT/usr/share/metainfo" "$DEB_ROOT/usr/share/icons/hicolor/scalable/apps" \
  "$DEB_ROOT/usr/share/icons/hicolor/256x256/apps" "$DEB_ROOT/usr/share/icons/hicolor/64x64/apps" \
  "$DEB_ROOT/usr/share/doc/strongroom"
cp -a "$OUT/strongroom" "$DEB_ROOT/opt/strongroom"
ln -s /opt/strongroom/strongroom "$DEB_ROOT/usr/bin/strongroom"
ln -s /opt/strongroom/strongroom-gui "$DEB_ROOT/usr/bin/strongroom-gui"
install -m 644 resources/strongroom.desktop "$DEB_ROOT/usr/share/applications/strongroom.desktop"
install -m 644 packaging/linux/org.strongroom.Strongroom.metainfo.xml "$DEB_ROOT/usr/share/metainfo/"
install -m 644 resources/icons/strongroom.svg "$DEB_ROOT/usr/share/icons/hicolor/scalable/apps/strongroom.svg"
install -m 644 resources/icons/strongroom-256.png "$DEB_ROOT/usr/share/icons/hicolor/256x256/apps/strongroom.png"
install -m 644 resources/icons/strongroom-64.png "$DEB_ROOT/usr/share/icons/hicolor/64x64/apps/strongroom.png"
install -m 644 packaging/linux/copyright "$DEB_ROOT/usr/share/doc/strongroom/copyright"
install -m 755 packaging/linux/postinst packaging/linux/prerm packaging/linux/postrm "$DEB_ROOT/DEBIAN/"
# The agent as a system service (machine scope, /var/lib/strongroom) and as a user service.
install -D -m 644 packaging/linux/system/strongroom-agent.service "$DEB_ROOT/usr/lib/systemd/system/strongroom-agent.service"
install -D -m 644 packaging/linux/user/strongroom-agent.service "$DEB_ROOT/usr/lib/systemd/user/strongroom-agent.service"
SIZE_KIB=$(du -sk --exclude=DEBIAN "$DEB_ROOT" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE_KIB/" packaging/linux/control.in \
  > "$DEB_ROOT/DEBIAN/control"
DEB="$OUT/strongroom_${VERSION}_${ARCH}.deb"
rm -f "$OUT"/strongroom_*.deb
dpkg-deb --build --root-owner-group -Zxz "$DEB_ROOT" "$DEB" >/dev/null
echo "package: $DEB ($(du -h "$DEB" | cut -f1), installs $((SIZE_KIB / 1024)) MiB)"
