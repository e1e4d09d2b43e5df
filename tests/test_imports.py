import subprocess
import sys


def test_importing_sharp_does_not_import_streamlit_or_plotly():
    code = ("import sys, sharp, sharp.cli, sharp.sweep, sharp.train, sharp.data, sharp.nets, sharp.metrics; "
            "bad = [m for m in ('streamlit', 'plotly') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
