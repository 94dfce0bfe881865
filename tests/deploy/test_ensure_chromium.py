"""``make test`` on a fresh Debian or Ubuntu machine: Chromium is installed first when missing (as root,
or through sudo when it needs no password), or make stops before running anything, with one line saying
what to do. ``scripts/ensure_chromium.sh`` runs here against stand-in ``id``, ``sudo`` and ``apt-get``
commands on a PATH of the test's own, so nothing is installed for real."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "ensure_chromium.sh"


def _tool(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def machine(tmp_path):
    """A PATH with bash, env and true only; each test adds the stand-ins it needs. Every call of a stand-in is
    written to calls.log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ["bash", "env", "true"]:
        (bin_dir / name).symlink_to(shutil.which(name))
    log = tmp_path / "calls.log"
    log.touch()

    class Machine:
        calls = log

        def add(self, name: str, body: str) -> None:
            _tool(bin_dir, name, body)

        def user(self, uid: int) -> None:
            self.add("id", f'echo {uid}; echo "id $*" >> {log}')

        def apt_that_installs(self) -> None:
            # A real install puts /usr/bin/chromium on the PATH; the stand-in puts one in bin_dir.
            self.add(
                "apt-get",
                f'echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> {log}\n'
                f'if [ "$1" = install ]; then printf "#!/bin/bash\\n" > {bin_dir}/chromium; '
                f"/bin/chmod +x {bin_dir}/chromium; fi",
            )

        def run(self) -> subprocess.CompletedProcess:
            env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
            return subprocess.run(  # noqa: S603
                [str(bin_dir / "bash"), str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30
            )

        def calls_made(self) -> list[str]:
            return log.read_text().splitlines()

    return Machine()


def test_nothing_happens_when_chromium_is_installed(machine):
    machine.add("chromium", "exit 0")
    machine.apt_that_installs()
    result = machine.run()
    assert result.returncode == 0
    assert machine.calls_made() == []


def test_root_installs_debians_chromium_non_interactively(machine):
    machine.user(0)
    machine.apt_that_installs()
    result = machine.run()
    assert result.returncode == 0, result.stderr
    assert machine.calls_made() == [
        "id -u",
        "apt-get update -qq DEBIAN_FRONTEND=noninteractive",
        "apt-get install -y -qq chromium DEBIAN_FRONTEND=noninteractive",
    ]


def test_another_user_installs_through_sudo_when_it_needs_no_password(machine):
    machine.user(1000)
    machine.apt_that_installs()
    machine.add("sudo", f'echo "sudo $*" >> {machine.calls}\n[ "$1" = -n ] && shift; exec "$@"')
    result = machine.run()
    assert result.returncode == 0, result.stderr
    calls = machine.calls_made()
    assert "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium" in calls
    assert "apt-get install -y -qq chromium DEBIAN_FRONTEND=noninteractive" in calls


def test_without_root_or_password_free_sudo_it_stops_with_one_line_saying_what_to_run(machine):
    machine.user(1000)
    machine.apt_that_installs()
    machine.add("sudo", f'echo "sudo $*" >> {machine.calls}; exit 1')
    result = machine.run()
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "sudo apt-get install -y chromium" in result.stderr
    assert not any(call.startswith("apt-get") for call in machine.calls_made())


def test_without_apt_it_stops_with_one_line(machine):
    machine.user(0)
    result = machine.run()
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "Chromium" in result.stderr


def test_a_failed_install_stops_with_one_line(machine):
    machine.user(0)
    machine.add("apt-get", f'echo "apt-get $*" >> {machine.calls}; [ "$1" = update ]')
    result = machine.run()
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "could not install" in result.stderr


def test_make_test_checks_for_chromium_before_installing_or_running_anything():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    result = subprocess.run(
        # Under a parent make (as when `make test` runs this suite) a sub-make announces its directory.
        ["make", "--dry-run", "--always-make", "--no-print-directory", "test"],  # noqa: S607
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MAKEFLAGS": ""},
    )
    assert result.returncode == 0, result.stderr
    commands = [line for line in result.stdout.splitlines() if line.strip()]
    assert commands[0] == "scripts/ensure_chromium.sh"
    assert any("pytest" in line for line in commands[1:])
