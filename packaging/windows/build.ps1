# Build Strongroom for Windows: the PyInstaller bundle, then the Inno Setup installer.
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
#
# Needs on the build machine: Python 3.11+ (python on PATH) and Inno Setup 6 (iscc.exe on
# PATH or in its default folder). NOT TESTED: written on Linux, where it cannot run; see
# packaging/README.md.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$venv = "build\package-venv"
if (-not (Test-Path "$venv\Scripts\pyinstaller.exe")) {
    python -m venv $venv
    & "$venv\Scripts\python.exe" -m pip install --quiet --upgrade pip
    # Pillow lets PyInstaller turn the PNG icon into the .ico Windows wants.
    & "$venv\Scripts\python.exe" -m pip install --quiet "pyinstaller==6.22.3" pillow
}
& "$venv\Scripts\python.exe" -m pip install --quiet .
& "$venv\Scripts\python.exe" -m pip install --quiet --force-reinstall --no-deps .
$version = & "$venv\Scripts\python.exe" -c "from importlib.metadata import version; print(version('strongroom'))"

& "$venv\Scripts\pyinstaller.exe" --noconfirm --log-level ERROR --distpath dist --workpath build\pyinstaller `
    packaging\strongroom.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }

$iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $iscc) { $iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
& $iscc "/DAppVersion=$version" packaging\windows\strongroom.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }

# Smoke test of the bundle (not of the installed copy): version, self-test.
& dist\strongroom\strongroom.exe --version
$env:QT_QPA_PLATFORM = "offscreen"
& dist\strongroom\strongroom-gui.exe --self-test
