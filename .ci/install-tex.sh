#!/usr/bin/env bash
# TeX for the paper (issue 15): the minimal Debian/Ubuntu set that builds paper/paper.tex
# (latexmk, pdflatex + bibtex, booktabs, longtable, graphicx, hyperref, natbib, amsmath, xcolor)
# and poppler-utils (pdftotext, pdftoppm) for the paper tests. About 30 s on a Debian 12 host.
# Installs only as root with apt-get; otherwise says what to install and exits 0, so that the
# paper rule's own error names the packages again if they are still missing.
set -euo pipefail
PACKAGES=(latexmk texlive-latex-base texlive-latex-recommended poppler-utils)

if command -v latexmk >/dev/null && command -v pdflatex >/dev/null \
    && command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null; then
    echo "install-tex: latexmk, pdflatex and poppler-utils already present"
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "install-tex: cannot install here (needs root and apt-get). Install: ${PACKAGES[*]}" \
        "(Debian/Ubuntu: sudo apt-get install --no-install-recommends ${PACKAGES[*]}), or any" \
        "TeX Live with latexmk and poppler's pdftotext/pdftoppm." >&2
    exit 0
fi
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
echo "install-tex: installed ${PACKAGES[*]} in $(($(date +%s) - start)) s"
