"""In a real browser: the neuron-trajectories page's step slider moves the cursor on the curves, and Play moves it
on its own (the cursor is read off the drawn SVG: its data-cursor and the x of its dashed line)."""
from __future__ import annotations

import pytest
from browser_support import app_server, chromium, exceptions  # noqa: F401

pytestmark = pytest.mark.browser

# (data-cursor, x of the cursor line) of each curve chart of the scrubber
CURSORS = """() => Array.from(document.querySelectorAll('svg[data-chart^="traj-"][data-cursor]')).map(e => {
  const line = e.querySelector('path[stroke-dasharray="5 4"]');
  return [+e.dataset.cursor, line ? parseFloat(line.getAttribute('d').slice(1)) : null];
})"""


def cursors(page) -> list[list[float]]:
    return page.evaluate(CURSORS)


def wait_cursor(page, step: int, timeout_ms: int = 30_000) -> None:
    page.wait_for_function(f"""() => {{
      const c = Array.from(document.querySelectorAll('svg[data-chart^="traj-"][data-cursor]'));
      return c.length == 2 && c.every(e => e.dataset.cursor == '{step}');
    }}""", timeout=timeout_ms)


def test_step_slider_moves_the_cursor_and_play_advances_it(app_server, chromium):  # noqa: F811
    page = chromium.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(app_server + "/trajectories?m=256", wait_until="domcontentloaded")
    wait_cursor(page, 300, timeout_ms=180_000)  # the first visit trains both runs
    end = cursors(page)
    assert len(end) == 2 and all(x is not None for _, x in end)
    slider = page.get_by_test_id("stSlider").filter(has_text="SGD step").get_by_role("slider")
    slider.focus()
    page.keyboard.press("Home")
    wait_cursor(page, 0)
    start = cursors(page)
    assert all(s[1] < e[1] - 200 for s, e in zip(start, end)), (start, end)  # the line moved left across the plot
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    wait_cursor(page, 15)
    assert all(s[1] < c[1] < e[1] for s, c, e in zip(start, cursors(page), end))
    # the planes follow the same slider
    assert page.locator('svg[data-chart="plane-feature"]').get_attribute("data-step") == "15"
    # Play moves the cursor on its own (one frame each 0.35 s); wait for a later step, then Pause
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("""() => Array.from(document.querySelectorAll('svg[data-chart^="traj-"][data-cursor]'))
      .every(e => +e.dataset.cursor >= 40)""", timeout=60_000)
    page.get_by_role("button", name="Pause").click()
    assert exceptions(page) == 0
    page.close()
