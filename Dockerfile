# The app, headless on port 8501. The install step is the README's (`make install`).
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 sharp
WORKDIR /home/sharp/app
COPY --chown=sharp:sharp . .
USER sharp
RUN make install
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4).read().strip() != b'ok')"
CMD [".venv/bin/python", "-m", "streamlit", "run", "app.py", "--server.headless=true", "--server.port=8501", \
     "--server.address=0.0.0.0", "--browser.gatherUsageStats=false"]
