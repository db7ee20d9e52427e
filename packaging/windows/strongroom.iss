; Inno Setup script: installs the PyInstaller bundle (dist\strongroom) per machine.
;   iscc /DAppVersion=0.1.0 packaging\windows\strongroom.iss   -> dist\strongroom-<version>-setup.exe
; NOT TESTED: written on Linux, where Inno Setup cannot run; see packaging/README.md.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{5B1E4E8C-3F7A-4C6E-9C1D-7A2B9E0F4D11}
AppName=Strongroom
AppVersion={#AppVersion}
AppPublisher=Strongroom developers
DefaultDirName={autopf}\Strongroom
DefaultGroupName=Strongroom
OutputDir=..\..\dist
OutputBaseFilename=strongroom-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequired=admin
ChangesEnvironment=yes
UninstallDisplayIcon={app}\strongroom-gui.exe
WizardStyle=modern

[Files]
Source: "..\..\dist\strongroom\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Strongroom"; Filename: "{app}\strongroom-gui.exe"
Name: "{group}\Uninstall Strongroom"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Strongroom"; Filename: "{app}\strongroom-gui.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Registry]
; Put the command line (strongroom.exe) on the machine's PATH.
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; \
  ValueName: "Path"; ValueData: "{olddata};{app}"; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\strongroom-gui.exe"; Description: "Start Strongroom"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
Type: filesandordirs; Name: "{app}"

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKEY_LOCAL_MACHINE, 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment',
                             'Path', Path) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;
