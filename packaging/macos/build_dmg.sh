#!/usr/bin/env bash
# Build Strongroom for macOS: the PyInstaller .app, then a .dmg with an Applications link.
#
#   packaging/macos/build_dmg.sh        -> dist/Strongroom-<version>.dmg
#
# Needs on the build machine: macOS 12+, Python 3.11+ (python3), Xcode command line tools
# (hdiutil and codesign come with macOS). Signing and notarisation need a Developer ID:
# set CODESIGN_IDENTITY to sign. NOT TESTED: written on Linux, where it cannot run; see
# packaging/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=build/package-venv
if [ ! -x "$VENV/bin/pyinstaller" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet "pyinstaller==6.22.3" pillow  # Pillow: PNG icon -> .icns
fi
"$VENV/bin/python" -m pip install --quiet .
"$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps .
VERSION=$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("strongroom"))')

"$VENV/bin/pyinstaller" --noconfirm --log-level ERROR --distpath dist --workpath build/pyinstaller \
  packaging/strongroom.spec
APP=dist/Strongroom.app
[ -d "$APP" ] || { echo "PyInstaller did not make $APP" >&2; exit 1; }
# The command line lives inside the app; a link in /usr/local/bin is the administrator's choice:
#   ln -s /Applications/Strongroom.app/Contents/MacOS/strongroom /usr/local/bin/strongroom

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  codesign --deep --force --options runtime --sign "$CODESIGN_IDENTITY" "$APP"
fi

STAGE=build/dmg
rm -rf "$STAGE" && mkdir -p "$STAGE"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "Strongroom $VERSION" -srcfolder "$STAGE" -ov -format UDZO "dist/Strongroom-$VERSION.dmg"

"$APP/Contents/MacOS/strongroom" --version
QT_QPA_PLATFORM=offscreen "$APP/Contents/MacOS/strongroom-gui" --self-test
