#!/usr/bin/env bash
# Render what the register would publish today to a PDF, then each page to PNG, to look at the layout.
# Usage: scripts/pdf_pages.sh [register-slug] [output-dir]   (needs poppler-utils for pdftoppm)
set -euo pipefail
register="${1:-sub-licences}"
out="${2:-var/pdf-pages}"
command -v pdftoppm > /dev/null || { echo "pdftoppm is missing: apt-get install -y poppler-utils"; exit 1; }
mkdir -p "$out"
.venv/bin/python manage.py publish_register "$register" --preview "$out/$register.pdf"
pdftoppm -r 80 -png "$out/$register.pdf" "$out/$register-page"
ls "$out"
