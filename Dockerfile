# One image for the app (the default command, port 8501), the Dask scheduler and the workers (docker-compose.yml).
#
#   docker build -t sharp .                                        # on the official Python image, CPU torch
#   docker build --build-arg TORCH=cu128 -t sharp .                # a CUDA build of torch (PyTorch's cu128 index)
#   docker build --build-arg BASE=sharp-base:bookworm -t sharp .   # on a base of your own (docs/containers.md)
#
# BASE: any image with Python 3.11+ (`python3 -m venv`) and a shell; the published default is the official
# Python image. The install step is the Makefile's: `make install-deps` (torch's build named
# by TORCH through scripts/ensure-torch, then requirements.txt) before the source is copied, so a code change
# does not reinstall torch; then `make install` (the project itself, editable). Both run in a build stage of
# their own, and only the environment they made is copied into the image: no pip cache, no build inputs.
# deploy/local/ (empty but for its README) may hold wheels for pip (e.g. torch's CPU wheel where PyTorch's
# index cannot be reached) and a CA bundle for pip (ca-certificates.crt); they stay in the build stage.
ARG BASE=python:3.11-slim

FROM ${BASE} AS base
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN command -v make >/dev/null || { apt-get update && apt-get install -y --no-install-recommends make \
      && rm -rf /var/lib/apt/lists/*; }
RUN useradd --create-home --uid 1000 sharp && mkdir /home/sharp/app /home/sharp/cache \
    && chown sharp:sharp /home/sharp/app /home/sharp/cache
WORKDIR /home/sharp/app

FROM base AS deps
ARG TORCH=cpu
USER sharp
COPY --chown=sharp:sharp Makefile requirements.txt ./
COPY --chown=sharp:sharp scripts/ensure-torch scripts/
COPY --chown=sharp:sharp deploy/local/ /tmp/local/
RUN if [ -f /tmp/local/ca-certificates.crt ]; then export PIP_CERT=/tmp/local/ca-certificates.crt; fi \
    && PIP_FIND_LINKS=/tmp/local make install-deps TORCH=${TORCH}

# The source, without the build's local inputs (which the image does not need).
FROM base AS source
COPY --chown=sharp:sharp . /tmp/src/
RUN rm -rf /tmp/src/deploy/local

FROM base
COPY --from=deps --chown=sharp:sharp /home/sharp/app/.venv .venv
COPY --from=source --chown=sharp:sharp /tmp/src/ ./
USER sharp
# The environment is the stage's above, whatever the times of the files copied since (-o: not remade).
RUN make install -o .venv/bin/.deps-installed
ENV PATH=/home/sharp/app/.venv/bin:$PATH
# The disk store of finished runs and sweeps; docker-compose.yml mounts one volume here for every replica and
# worker (created by the image's user, so a new volume is theirs to write).
ENV SHARP_CACHE_DIR=/home/sharp/cache
EXPOSE 8501 8786 8787
# The app listens on $PORT when a platform sets it (Cloud Run, Render, Railway, Heroku do), else on 8501.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD python -c "import os, sys, urllib.request; sys.exit(urllib.request.urlopen('http://localhost:%s/_stcore/health' % os.environ.get('PORT', '8501'), timeout=4).read().strip() != b'ok')"
CMD ["sh", "-c", "exec python -m streamlit run app.py --server.headless=true --server.port=${PORT:-8501} --server.address=0.0.0.0 --browser.gatherUsageStats=false"]
