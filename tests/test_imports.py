import subprocess
import sys


def test_importing_sharp_does_not_import_streamlit_or_plotly():
    code = ("import sys, sharp, sharp.cli, sharp.sweep, sharp.train, sharp.data, sharp.nets, sharp.metrics, "
            "sharp.jobs, sharp.experiments, sharp.warm; "
            "bad = [m for m in ('streamlit', 'plotly') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


def test_no_pages_folder_next_to_the_router():
    # A folder named pages/ beside app.py makes Streamlit route by folder (bypassing app.py's st.navigation)
    # until some session has opened "/": shared links to other pages would then lose the router.
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    assert not (root / "pages").exists()
    assert all((root / "views" / f"{name}.py").exists()
               for name in ("live", "figure1", "iterations", "samples", "deep", "theory"))
