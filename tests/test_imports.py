import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_importing_sharp_does_not_import_streamlit_or_plotly():
    # every module of the engine, so a new one is covered without editing this test
    code = ("import sys, pkgutil, importlib, sharp; "
            "[importlib.import_module('sharp.' + m.name) for m in pkgutil.iter_modules(sharp.__path__) "
            "if m.name != '__main__']; "
            "bad = [m for m in ('streamlit', 'plotly') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr


def test_no_pages_folder_next_to_the_router():
    # A folder named pages/ beside app.py makes Streamlit route by folder (bypassing app.py's st.navigation)
    # until some session has opened "/": shared links to other pages would then lose the router.
    assert not (ROOT / "pages").exists()
    routed = re.findall(r'st\.Page\("(views/\w+\.py)"', (ROOT / "app.py").read_text())
    assert len(routed) >= 9 and all((ROOT / p).exists() for p in routed)
