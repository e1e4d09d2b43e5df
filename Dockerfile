# One image for the app (the default command, port 8501), the Dask scheduler and the workers (docker-compose.yml).
# The install step is the README's (`make install`: requirements.txt, then the project itself, editable).
# torch: the CPU build by default, from PyTorch's CPU-only wheel index (`2.13.0+cpu` satisfies the pin and
# ranks above PyPI's `2.13.0`, which would pull the multi-GB CUDA build); `--build-arg TORCH=cu128` (or another
# of PyTorch's CUDA indexes) selects a CUDA build instead.
FROM python:3.11-slim
ARG TORCH=cpu
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 sharp
WORKDIR /home/sharp/app
COPY --chown=sharp:sharp . .
USER sharp
RUN PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/${TORCH} make install
ENV PATH=/home/sharp/app/.venv/bin:$PATH
# The disk store of finished runs and sweeps; docker-compose.yml mounts one volume here for every replica and
# worker (created by the image's user, so a new volume is theirs to write).
ENV SHARP_CACHE_DIR=/home/sharp/cache
RUN mkdir -p /home/sharp/cache
EXPOSE 8501 8786 8787
# The app listens on $PORT when a platform sets it (Cloud Run, Render, Railway, Heroku do), else on 8501.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD python -c "import os, sys, urllib.request; sys.exit(urllib.request.urlopen('http://localhost:%s/_stcore/health' % os.environ.get('PORT', '8501'), timeout=4).read().strip() != b'ok')"
CMD ["sh", "-c", "exec python -m streamlit run app.py --server.headless=true --server.port=${PORT:-8501} --server.address=0.0.0.0 --browser.gatherUsageStats=false"]
