import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_importing_sharp_does_not_import_streamlit_or_plotly():
    # every module of the engine, so a new one is covered without editing this test
    code = ("import sys, pkgutil, importlib, sharp; "
            "[importlib.import_module(m.name) for m in pkgutil.walk_packages(sharp.__path__, 'sharp.') "
            "if not m.name.endswith('__main__')]; "
            "bad = [m for m in ('streamlit', 'plotly') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr


def test_no_pages_folder_next_to_the_router():
    # A folder named pages/ beside app.py makes Streamlit route by folder (bypassing app.py's st.navigation)
    # until some session has opened "/": shared links to other pages would then lose the router.
    assert not (ROOT / "pages").exists()
    routed = re.findall(r'st\.Page\("(views/\w+\.py)"', (ROOT / "app.py").read_text())
    assert len(routed) >= 9 and all((ROOT / p).exists() for p in routed)


# The floors of the layout (README, Layout): a module may import its own floor and those below, never above.
FLOORS = [("sharp.engine", 0), ("sharp.logs", 0), ("sharp.experiments", 1), ("sharp.serve", 2),
          ("sharp.distributed", 2), ("sharp.cli", 3), ("sharp.bench", 3), ("sharp.__main__", 3), ("ui", 4),
          ("views", 5), ("app", 6)]


def floor(module: str) -> int | None:
    if module == "sharp":  # the package's thin public surface re-exports the engine
        return 0
    for prefix, level in FLOORS:
        if module == prefix or module.startswith(prefix + "."):
            return level
    return None


def imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (lazy imports inside functions count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_imports_go_one_way_engine_experiments_serve_ui_views():
    files = [p for p in ROOT.glob("**/*.py") if p.parts[len(ROOT.parts)] in ("sharp", "ui", "views", "app.py")]
    assert len(files) > 30
    back = []
    for path in files:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        own = floor(module)
        assert own is not None, f"{module} has no floor in FLOORS"
        for target in imports(path):
            level = floor(target)
            if level is not None and level > own:
                back.append(f"{module} (floor {own}) imports {target} (floor {level})")
    assert not back, "imports that go back up:\n" + "\n".join(sorted(back))
