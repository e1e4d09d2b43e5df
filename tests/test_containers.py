"""The compose file and the Dockerfile say what the README's "Sweeps on a cluster" says (no Docker engine here).

Parsed, not run: the services, their commands, ports and environment, the install step and the torch index.
"""
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def readme() -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index("## Sweeps on a cluster"):].split("\n## ", 1)[0]


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_compose_starts_the_app_a_scheduler_and_two_workers_from_one_image(compose):
    services = compose["services"]
    assert sorted(services) == ["app", "proxy", "scheduler", "worker-1", "worker-2"]  # proxy: test_replicas_topology
    for name, s in services.items():
        if name == "proxy":
            continue
        assert s["build"]["context"] == "." and s["image"] == "sharp:latest"
        assert s["build"]["args"]["TORCH"] == "cpu"
    assert services["scheduler"]["command"] == ["dask", "scheduler", "--port", "8786", "--dashboard-address", ":8787"]
    assert services["scheduler"]["ports"] == ["8786:8786", "8787:8787"]
    for w in ("worker-1", "worker-2"):
        assert services[w]["command"] == ["dask", "worker", "tcp://scheduler:8786", "--nthreads", "1"]
        assert services[w]["healthcheck"] == {"disable": True}  # the image's health check is the app's
    app = services["app"]
    assert "command" not in app  # the image's default command: the app
    assert app["environment"]["SHARP_SCHEDULER"] == "tcp://scheduler:8786" and app["expose"] == ["8501"]


def test_the_readme_says_what_compose_runs(compose, readme):
    services = compose["services"]
    assert "docker compose up --build" in readme
    assert f"`{shlex.join(services['scheduler']['command'])}`" in readme
    assert f"`{shlex.join(services['worker-1']['command'])}`" in readme
    env = services["app"]["environment"]
    assert f"`SHARP_SCHEDULER={env['SHARP_SCHEDULER']}`" in readme
    for port in ("8786", "8787", "8501"):
        assert port in readme
    # the commands for machines without containers: the same programs and flags
    assert "dask scheduler" in readme and "dask worker tcp://HOST:8786 --nthreads 1" in readme
    assert "--scheduler tcp://HOST:8786" in readme and "SHARP_SCHEDULER=tcp://HOST:8786 make run" in readme


def test_the_image_installs_as_the_readme_says_with_cpu_torch_by_default(readme):
    steps = dockerfile()
    args = dict(a.split("=", 1) for kind, a in steps if kind == "ARG")
    assert args["TORCH"] == "cpu"
    runs = [a for kind, a in steps if kind == "RUN"]
    install = [r for r in runs if "make install" in r]
    assert install == ["PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/${TORCH} make install"]
    assert "make install" in readme and "https://download.pytorch.org/whl/cpu" in readme
    assert "--build-arg TORCH=cu128" in readme
    assert ("EXPOSE", "8501 8786 8787") in steps
    env = [a for kind, a in steps if kind == "ENV"]
    assert any(e.startswith("PATH=/home/sharp/app/.venv/bin:") for e in env)  # `dask` and `python` are .venv's
    cmd = [a for kind, a in steps if kind == "CMD"][-1]
    assert "streamlit" in cmd and "--server.port=${PORT:-8501}" in cmd and "--server.address=0.0.0.0" in cmd


def test_the_makefile_installs_the_project_so_workers_import_it():
    make = (ROOT / "Makefile").read_text()
    assert "$(BIN)/python -m pip install -q -e ." in make
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'build-backend = "setuptools.build_meta"' in pyproject and 'include = ["sharp", "sharp.*"]' in pyproject
    pins = {line.split("==")[0]: line for line in (ROOT / "requirements.txt").read_text().splitlines()
            if "==" in line}
    assert f'"{pins["torch"]}"' in pyproject  # the same pin in both: workers must run the same torch
