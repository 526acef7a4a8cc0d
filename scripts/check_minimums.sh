#!/usr/bin/env bash
# The declared minimum versions really work: install exactly them in a fresh venv and run the tests
# that exercise them (model, engine, evaluation, report tables, dataset). Run by .ci/run after the main suite.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "numpy==2.0.2" "scipy==1.13.1" "scikit-learn==1.6.0" "datasets==4.0.0" \
    "typer==0.16.0" "rich==12.5.0" "syntok==1.4.4" "matplotlib==3.9.0" "tqdm==4.66.3" "trafilatura==2.0.0" "lxml_html_clean==0.4.0" \
    "pypdf==5.0.0" "pytest>=8" "hypothesis>=6" "markdown-it-py>=2.2"
"$work/venv/bin/pip" install --quiet --no-deps -e "$repo"
cd "$repo"
HF_DATASETS_OFFLINE=1 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider tests/test_model.py tests/test_engine.py \
    tests/test_evaluate.py tests/test_report.py tests/test_dataset.py tests/test_tag.py tests/test_readers.py tests/test_cli.py
