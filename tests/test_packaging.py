"""`pip install .` builds a wheel of the engine alone, with its runtime dependencies declared."""
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def z_text(wheel: Path, suffix: str) -> str:
    with zipfile.ZipFile(wheel) as z:
        return z.read(next(n for n in z.namelist() if n.endswith(suffix))).decode()


@pytest.mark.slow
def test_the_wheel_holds_the_engine_and_declares_its_dependencies(tmp_path):
    # Built from the tracked files only, as from a clean checkout; this venv's setuptools, no index needed.
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    src = tmp_path / "src"
    for f in files:
        if (ROOT / f).is_file():
            (src / f).parent.mkdir(parents=True, exist_ok=True)
            (src / f).write_bytes((ROOT / f).read_bytes())
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("sharp-*.whl")
    import sharp

    assert wheel.name.startswith(f"sharp-{sharp.__version__}-")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    code = {n for n in names if ".dist-info/" not in n}
    # every module of the package, its floors included, and nothing else: no pages, no figures, no tests
    assert code == {f.relative_to(ROOT).as_posix() for f in (ROOT / "sharp").rglob("*.py")}
    assert {"sharp/engine/train.py", "sharp/experiments/fig1.py", "sharp/serve/pool.py"} <= code
    requires = {line.removeprefix("Requires-Dist: ") for line in meta.splitlines() if line.startswith("Requires-Dist")}
    assert "torch==2.13.0" in requires
    assert {r.split(">")[0].split("=")[0].split("[")[0] for r in requires} == {
        "torch", "numpy", "pandas", "pyarrow", "platformdirs", "dask", "tqdm"}
    entry_points = z_text(wheel, ".dist-info/entry_points.txt")
    assert "[console_scripts]\nsharp = sharp.cli:main" in entry_points  # the `sharp` command
