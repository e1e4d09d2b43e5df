"""docker-compose.yml and scripts/serve-replicas describe the same lecture hall (no Docker engine here).

Both put nginx, configured from the one template deploy/nginx.conf.template, in front of N app replicas that
share one disk store. Parsed and compared: the template each uses and how each fills it (the compose side as
the nginx image's entrypoint does, with envsubst), the app's port, the health path, the store's variable and
volume, the scale. The rendered configuration is checked by `nginx -t` where nginx is installed.
"""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("serve_replicas", ROOT / "scripts" / "serve_replicas.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


sr = load_script()
TEMPLATE = sr.TEMPLATE.read_text()


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def envsubst(text: str, env: dict[str, str]) -> str:
    """What the nginx image's entrypoint does to a template: $VAR and ${VAR} replaced for the variables set in
    the container's environment, everything else ($host, $request_id: nginx's own variables) left alone."""
    for name, value in env.items():
        text = re.sub(r"\$\{" + name + r"\}|\$" + name + r"(?![A-Za-z0-9_])", lambda _, v=value: v, text)
    return text


def dockerfile_cmd() -> str:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    return [line for line in text.splitlines() if line.startswith("CMD ")][-1]


def app_port() -> int:
    """The port the image's app listens on when no platform sets $PORT."""
    return int(re.search(r"--server\.port=\$\{PORT:-(\d+)\}", dockerfile_cmd()).group(1))


def test_the_proxy_runs_the_scripts_template_in_place_of_the_images_default(services):
    proxy = services["proxy"]
    # the official nginx image by default, 1.27.3 or later (the upstream's `resolve`)
    image = re.fullmatch(r"\$\{SHARP_PROXY_IMAGE:-nginx:(\d+)\.(\d+)\}", proxy["image"])
    assert image and (int(image[1]), int(image[2])) >= (1, 28), proxy["image"]
    mounts = {target: (source, mode) for source, target, mode in (m.split(":") for m in proxy["volumes"])}
    # default.conf.template renders to conf.d/default.conf: it replaces the image's own server on port 80
    source, mode = mounts.pop("/etc/nginx/templates/default.conf.template")
    assert (ROOT / source).resolve() == sr.TEMPLATE and mode == "ro"
    # and Docker's DNS for the upstream's `resolve` (the replicas followed as they come and go)
    assert mounts == {"/etc/nginx/conf.d/resolver.conf": ("./deploy/nginx-resolver.conf", "ro")}


def test_compose_fills_the_template_as_the_script_does(services):
    env = services["proxy"]["environment"]
    assert set(env) == {sr.REPLICA_VAR, sr.PORT_VAR}
    by_image = envsubst(TEMPLATE, env)
    by_script = sr.render(TEMPLATE, [env[sr.REPLICA_VAR]], env[sr.PORT_VAR])
    assert by_image == by_script and "${" not in by_image
    # one name (compose's service) in the image; one line per replica address in the script's
    three = sr.render(TEMPLATE, ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"], 8501)
    assert [line.split()[1] for line in three.splitlines() if line.strip().startswith("server 127")] == \
        ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]
    with pytest.raises(ValueError, match="neither"):
        sr.render(TEMPLATE + "\n# ${SHARP_OTHER}\n", ["127.0.0.1:1"], 8501)


def test_the_proxy_reaches_the_replicas_on_the_apps_port_and_is_the_only_way_in(services):
    proxy, app = services["proxy"], services["app"]
    port = app_port()
    assert proxy["environment"][sr.REPLICA_VAR] == f"app:{port} resolve" and app["expose"] == [str(port)]
    assert "ports" not in app  # visitors come through the proxy only
    listen = proxy["environment"][sr.PORT_VAR]
    assert proxy["ports"] == [f"8501:{listen}"]  # the address the README gives, as with the script's default
    assert proxy["depends_on"]["app"]["condition"] == "service_healthy"  # the first visitors find replicas ready


def test_the_same_health_path_everywhere():
    assert sr.HEALTH == "/_stcore/health"
    assert f"location = {sr.HEALTH} {{" in TEMPLATE
    assert f"localhost:%s{sr.HEALTH}" in (ROOT / "Dockerfile").read_text()  # the image's HEALTHCHECK


def test_every_replica_and_worker_shares_the_store(services, tmp_path):
    app = services["app"]
    store = app["environment"][sr.STORE_ENV]
    volumes = {}
    for name in ("app", "worker-1", "worker-2"):
        (mount,) = services[name]["volumes"]
        volumes[name] = mount.split(":")
    assert all(v == ["store", store] for v in volumes.values())
    assert "store" in yaml.safe_load((ROOT / "docker-compose.yml").read_text())["volumes"]
    assert f"ENV {sr.STORE_ENV}={store}" in (ROOT / "Dockerfile").read_text()
    # the script's replicas: the same variable, the same folder for each; the warm-up on the first only
    envs = [sr.replica_env({"PATH": "/bin"}, tmp_path, i) for i in range(3)]
    assert {e[sr.STORE_ENV] for e in envs} == {str(tmp_path)}
    assert [e.get("SHARP_WARM") for e in envs] == [None, "0", "0"]


def test_the_scale_setting(services):
    replicas = services["app"]["deploy"]["replicas"]
    default = int(re.fullmatch(r"\$\{SHARP_REPLICAS:-(\d+)\}", replicas).group(1))
    assert 1 <= default <= sr.MAX_REPLICAS
    make = (ROOT / "Makefile").read_text()
    assert f"N ?= {default}" in make and "scripts/serve-replicas $(N)" in make  # the same default both ways


def test_the_image_listens_on_the_platforms_port():
    cmd = dockerfile_cmd()
    assert cmd.startswith('CMD ["sh", "-c", "exec python -m streamlit run app.py')
    assert "--server.port=${PORT:-8501}" in cmd and "--server.address=0.0.0.0" in cmd


def test_nginx_accepts_the_generated_configuration(tmp_path):
    nginx = sr.nginx_binary()
    if nginx is None:
        pytest.skip("nginx not installed (scripts/ensure-nginx)")
    snippet = tmp_path / "sharp.conf"
    snippet.write_text(sr.render(TEMPLATE, ["127.0.0.1:18502", "127.0.0.1:18503"], "127.0.0.1:18501"))
    conf = tmp_path / "nginx.conf"
    conf.write_text(sr.nginx_conf(snippet, tmp_path))
    out = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(tmp_path), "-e", "stderr"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
