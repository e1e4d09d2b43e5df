"""The pages' browser scripts (web/scripts.py, web/static/*.js) as the pages send them, without a browser."""
from __future__ import annotations

import json
import re

import pytest

from web import scripts

SENT = {  # each script as a page sends it through st.html
    "shortcuts": scripts.shortcuts(), "downloads": scripts.downloads(),
    "leave_kiosk": scripts.leave_kiosk("/?steps=30&from_kiosk=1"),
    "return_when_idle": scripts.return_when_idle("/?kiosk=1&idle_s=45&scene_s=20", 45),
}


@pytest.mark.parametrize("name", SENT)
def test_a_script_survives_streamlits_sanitizer(name):
    # st.html's sanitizer drops an element whose text looks like markup ("<" then a letter or "/"): a script
    # whose text held, say, "st-key-<key>" in a comment never ran. Its own </script> closes it.
    html = SENT[name]
    assert html.startswith("<script data-sharp>") and html.endswith("</script>")
    assert not re.search(r"<[/\w]", html.removeprefix("<script data-sharp>").removesuffix("</script>"))


def settings(name: str) -> dict:
    """The settings a sent script calls its file with (ValueError if it is not `(file)(settings);`)."""
    body = SENT[name].removeprefix("<script data-sharp>\n").removesuffix(";\n</script>")
    head = f"({scripts.source(name)})("
    if not (body.startswith(head) and body.endswith(")")):
        raise ValueError(f"{name} is not its file called with its settings")
    return json.loads(body[len(head):-1])


@pytest.mark.parametrize("name", SENT)
def test_a_script_is_its_file_called_with_its_settings(name):
    cfg = settings(name)
    assert isinstance(cfg, dict) and all(f"cfg.{k}" in scripts.source(name) for k in cfg)  # every setting is read


def test_the_settings_carry_the_urls_and_times():
    assert settings("return_when_idle") == {"url": "/?kiosk=1&idle_s=45&scene_s=20", "ms": 45000}
    assert settings("leave_kiosk") == {"url": "/?steps=30&from_kiosk=1"}
