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
EXPOSE 8501 8786 8787
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4).read().strip() != b'ok')"
CMD ["python", "-m", "streamlit", "run", "app.py", "--server.headless=true", "--server.port=8501", \
     "--server.address=0.0.0.0", "--browser.gatherUsageStats=false"]
