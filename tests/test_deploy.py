"""The deploy files' safe defaults: nginx's configurations are valid and do what they say (TLS, the Secure
cookie, re-resolving replicas), the Space's README is ready.

nginx from the OS packages (scripts/ensure-nginx); without it these skip, under CI they fail. The compose
file's proxy (nginx 1.27.3 or later, for `resolve`) runs in tests/test_containers.py; Debian 12's nginx is
1.22, so here its configuration is checked without that one parameter when the local nginx predates it.
"""
from __future__ import annotations

import http.server
import re
import ssl
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest
import yaml
from browser_support import free_port, missing
from test_replicas_topology import app_port, envsubst, sr

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = sr.TEMPLATE.read_text()


def nginx() -> str:
    binary = sr.nginx_binary()
    if binary is None:
        missing("nginx not installed (scripts/ensure-nginx)")
    return binary


def nginx_version(binary: str) -> tuple[int, ...]:
    text = subprocess.run([binary, "-v"], capture_output=True, text=True).stderr
    return tuple(int(x) for x in re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", text).groups())


def nginx_t(binary: str, snippet: str, folder: Path) -> subprocess.CompletedProcess:
    (folder / "sharp.conf").write_text(snippet)
    (folder / "nginx.conf").write_text(sr.nginx_conf(folder / "sharp.conf", folder))
    return subprocess.run([binary, "-t", "-c", str(folder / "nginx.conf"), "-p", str(folder), "-e", "stderr"],
                          capture_output=True, text=True, timeout=30)


def proxy_env() -> dict[str, str]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["proxy"]["environment"]


def test_the_compose_proxy_configuration_is_valid_and_re_resolves_the_replicas(tmp_path):
    binary = nginx()
    env = proxy_env()
    rendered = envsubst(TEMPLATE, env)
    assert "server app:8501 resolve max_fails=1" in rendered and "zone sharp_replicas " in rendered
    resolver = (ROOT / "deploy" / "nginx-resolver.conf").read_text()
    assert re.search(r"^resolver 127\.0\.0\.11 valid=\d+s", resolver, re.M)  # Docker's DNS, asked again
    # here `app` does not resolve (no compose network): the same configuration with a name that does
    local = rendered.replace("server app:", "server localhost:")
    if nginx_version(binary) < (1, 27, 3):  # `resolve` came to nginx's open-source build in 1.27.3
        local = local.replace(" resolve ", " ")
    out = nginx_t(binary, resolver + local, tmp_path)
    assert out.returncode == 0, out.stderr


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the http.server API)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.mark.server
def test_over_tls_the_proxy_serves_https_and_its_cookie_is_secure(tmp_path):
    """The TLS recipe (deploy/nginx-tls.conf, SHARP_PROXY_PORT="... ssl") run by nginx in front of a stand-in
    replica; a second nginx without TLS shows the cookie is Secure exactly when the visitor came over HTTPS."""
    binary = nginx()
    cert, key = self_signed(tmp_path)
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    replica = f"127.0.0.1:{upstream.server_address[1]}"
    tls = (ROOT / "deploy" / "nginx-tls.conf").read_text().replace("/etc/nginx/certs/", f"{tmp_path}/")
    assert f"ssl_certificate     {tmp_path}/fullchain.pem;" in tls
    https_port, http_port = free_port(), free_port()
    procs = []
    try:
        for name, snippet in (("tls", tls + sr.render(TEMPLATE, [replica], f"127.0.0.1:{https_port} ssl")),
                              ("plain", sr.render(TEMPLATE, [replica], f"127.0.0.1:{http_port}"))):
            folder = tmp_path / name
            folder.mkdir()
            assert nginx_t(binary, snippet, folder).returncode == 0
            procs.append(subprocess.Popen([binary, "-c", str(folder / "nginx.conf"), "-p", str(folder), "-e",
                                           "stderr"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        context = ssl.create_default_context(cafile=str(cert))

        def get(url: str, headers: dict[str, str] | None = None, **kw) -> tuple[bytes, str]:
            for _ in range(100):  # nginx starting: at most 100 tries, 0.1 s apart
                try:
                    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5,
                                                **kw) as r:
                        return r.read(), r.headers["Set-Cookie"]
                except urllib.error.URLError as e:
                    if not isinstance(e.reason, ConnectionRefusedError):
                        raise
                    threading.Event().wait(0.1)
            raise AssertionError(f"{url} refused every connection")

        body, cookie = get(f"https://127.0.0.1:{https_port}/_stcore/health", context=context)
        assert body == b"ok" and cookie.startswith("sharp_replica=") and cookie.endswith("; SameSite=Lax; Secure")
        body, cookie = get(f"http://127.0.0.1:{http_port}/_stcore/health")
        assert body == b"ok" and cookie.endswith("; SameSite=Lax")  # plain HTTP: not Secure
        # TLS ended by a load balancer in front, which says so
        _, cookie = get(f"http://127.0.0.1:{http_port}/_stcore/health", {"X-Forwarded-Proto": "https"})
        assert cookie.endswith("; Secure")
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        upstream.shutdown()


def test_the_tls_override_mounts_the_recipe_and_listens_with_ssl():
    override = yaml.safe_load((ROOT / "deploy" / "docker-compose.tls.yml").read_text())["services"]["proxy"]
    assert override["environment"]["SHARP_PROXY_PORT"] == f"{proxy_env()['SHARP_PROXY_PORT']} ssl"
    assert override["ports"] == ["443:8501"]
    targets = {v.split(":")[-2]: v for v in override["volumes"]}
    assert targets["/etc/nginx/conf.d/tls.conf"].startswith("./deploy/nginx-tls.conf:")
    assert targets["/etc/nginx/certs"].startswith("${SHARP_TLS_DIR:?")


def test_the_space_readme_is_ready_for_a_container_based_hosting_service():
    text = (ROOT / "deploy" / "space" / "README.md").read_text()
    front = yaml.safe_load(text.split("---\n")[1])
    assert text.startswith("---\n") and front["sdk"] == "docker"
    assert front["app_port"] == app_port() == 8501  # where the image's app listens when no PORT is set
    assert {"title", "emoji", "colorFrom", "colorTo"} <= set(front)
    assert "cp deploy/space/README.md README.md" in text
