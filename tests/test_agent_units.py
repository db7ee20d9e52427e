"""The systemd units the .deb installs start the agent and give it time to stop cleanly.

``packaging/smoke_test.sh`` runs ``systemd-analyze verify`` on the installed units (it needs
the installed program); here the files themselves are read as systemd reads them.
"""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from strongroom.core.agent.agent import STOP_TIMEOUT
from strongroom.core.plans.plan_run import AFTER_WHEN_STOPPING

UNITS = Path(__file__).parent.parent / "packaging" / "linux"


def unit(kind: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(UNITS / kind / "strongroom-agent.service")
    return parser


@pytest.mark.parametrize("kind", ["system", "user"])
def test_each_unit_runs_the_agent_and_waits_longer_than_a_clean_stop_can_take(kind: str) -> None:
    service = unit(kind)["Service"]
    command = shlex.split(service["ExecStart"])
    assert command[0] == "/usr/bin/strongroom" and command[-1] == "agent"
    assert service["KillSignal"] == "SIGTERM"
    assert float(service["TimeoutStopSec"]) > STOP_TIMEOUT + AFTER_WHEN_STOPPING
    assert service["Restart"] == "on-failure"


def test_the_system_unit_keeps_the_machine_s_plans_in_var_lib_with_shared_locks() -> None:
    service = unit("system")["Service"]
    assert "STRONGROOM_HOME=/var/lib/strongroom" in service["Environment"].split()
    assert "STRONGROOM_LOCK_SCOPE=machine" in service["Environment"].split()
    assert service["StateDirectory"] == "strongroom"
    assert unit("system")["Install"]["WantedBy"] == "multi-user.target"
    assert unit("user")["Install"]["WantedBy"] == "default.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("kind", ["system", "user"])
def test_systemd_analyze_finds_nothing_wrong_but_the_program_not_yet_installed(kind: str, tmp_path: Path) -> None:
    text = (UNITS / kind / "strongroom-agent.service").read_text()
    copy = tmp_path / "strongroom-agent.service"
    copy.write_text(text.replace("/usr/bin/strongroom", shutil.which("true") or "/bin/true"))
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
