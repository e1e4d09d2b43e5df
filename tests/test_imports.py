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


# The floors of the layout (docs/architecture.md, Layout): a module may import its own floor and those below, never
# above. A module's floor is that of the longest prefix listed here; a module with none fails the test, so a new
# one gets a floor on purpose.
FLOORS = {
    "sharp": 0,  # the package's thin public surface re-exports the engine
    "sharp.engine": 0,  # the maths of one run and of a grid
    "sharp.logs": 0,  # logging configured once, for the command line and the server
    "sharp.progress": 4,  # the command line's progress bar
    "sharp.experiments": 1,  # what each page computes, and its settings
    "sharp.distributed": 2,  # sweeps on a Dask cluster
    "sharp.serve": 3,  # what one server process shares between its visitors
    "sharp.cli": 4, "sharp.bench": 4, "sharp.__main__": 4,  # the command line
    "ui": 6,  # page controllers: a page's logic that is not drawing
    # figures: data in, a drawing out
    "ui.figures": 5, "ui.charttext": 5, "ui.paper_figures": 5, "ui.regime": 5, "ui.science": 5, "ui.live_chart": 5,
    "ui.palette": 5, "ui.ticks": 5,  # the figures' one palette and one tick algorithm
    "web": 7,  # the server's routes and the browser's scripts
    "web.server": 8,  # the server's start-up, which gathers the routes
    "views": 9,  # one script per page
    "app": 10,  # the router
}
FIGURES = 5
LIBRARY = ("sharp", "ui", "web", "views", "app.py")


def floor(module: str) -> int | None:
    prefixes = [p for p in FLOORS if module == p or module.startswith(p + ".")]
    return FLOORS[max(prefixes, key=len)] if prefixes else None


def imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (lazy imports inside functions count too).

    `from ui import figures` counts as the module ui.figures, `from ui.figures import COLORS` as ui.figures.
    """
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {f"{node.module}.{a.name}" if is_module(f"{node.module}.{a.name}") else node.module
                      for a in node.names}
    return found


def is_module(name: str) -> bool:
    """Whether name is a module or package of this project (a file or folder under ROOT)."""
    where = ROOT.joinpath(*name.split("."))
    return where.with_suffix(".py").is_file() or (where / "__init__.py").is_file()


def modules() -> dict[str, Path]:
    """The project's modules by name: every .py file of sharp/, ui/, web/, views/, and app.py."""
    files = [p for p in ROOT.glob("**/*.py") if p.parts[len(ROOT.parts)] in LIBRARY]
    return {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p for p in files}


def test_imports_go_one_way_down_the_floors():
    mods = modules()
    assert len(mods) > 40 and {"web.server", "ui.figures", "sharp.serve.pool", "views.live", "app"} <= set(mods)
    back = []
    for module, path in mods.items():
        own = floor(module)
        assert own is not None, f"{module} has no floor in FLOORS"
        for target in imports(path):
            level = floor(target)
            if level is not None and level > own:
                back.append(f"{module} (floor {own}) imports {target} (floor {level})")
    assert not back, "imports that go back up:\n" + "\n".join(sorted(back))


def test_no_circle_of_imports():
    # Within a floor, too: modules that import each other (even inside functions) are one idea in two files.
    mods = modules()
    edges = {m: sorted({t for t in imports(p) if t in mods and t != m}) for m, p in mods.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(m: str, path: list[str]) -> list[str] | None:
        state[m] = 1
        for t in edges[m]:
            if state.get(t) == 1:
                return path[path.index(t):] + [t] if t in path else [m, t]
            if t not in state and (circle := visit(t, path + [t])):
                return circle
        state[m] = 2
        return None

    for m in sorted(mods):
        if m not in state and (circle := visit(m, [m])):
            raise AssertionError("a circle of imports: " + " -> ".join(circle))


def test_figures_draw_without_streamlit():
    # The figures floor is pure builders, data in and a drawing out: none of it imports Streamlit, even lazily.
    figures = {m: p for m, p in modules().items() if floor(m) == FIGURES}
    assert {"ui.figures", "ui.paper_figures"} <= set(figures)
    bad = sorted(m for m, p in figures.items() if any(t.split(".")[0] == "streamlit" for t in imports(p)))
    assert not bad, f"figures that import streamlit: {bad}"


def test_every_name_a_script_or_example_imports_from_the_project_exists():
    """scripts/ and examples/ import the project's modules inside functions too (after a fresh server's start, under
    a benchmark's settings): a renamed module or function breaks them only when they run, which no other test
    does for most of them. Every `from sharp|ui|web ... import name` in them, at any depth, must resolve."""
    import importlib.util

    missing = []
    for path in sorted([*ROOT.glob("scripts/*.py"), *ROOT.glob("examples/*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                    node.module.split(".")[0] in ("sharp", "ui", "web"):
                module = importlib.import_module(node.module)
                missing += [f"{path.name}: {node.module}.{a.name}" for a in node.names if not hasattr(module, a.name)
                            and importlib.util.find_spec(f"{node.module}.{a.name}") is None]
    assert not missing, missing
