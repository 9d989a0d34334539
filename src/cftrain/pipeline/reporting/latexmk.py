"""Building the paper PDF with latexmk, strict about references and citations (issue 15).

TeX Live comes from Debian packages (``.ci/install-tex.sh``); where latexmk is missing the
error names the packages to install. The log is checked after the build: an undefined
reference or citation fails it, as does any LaTeX error (``-halt-on-error``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from cftrain.atomic import atomic_path

TEX_PACKAGES = ("latexmk", "texlive-latex-base", "texlive-latex-recommended", "poppler-utils")
INSTALL_HINT = (
    "LaTeX is missing: the paper needs latexmk and pdflatex. On Debian/Ubuntu run, as root, "
    "`.ci/install-tex.sh` (= apt-get install -y --no-install-recommends "
    + " ".join(TEX_PACKAGES)
    + "); elsewhere install a TeX Live with latexmk, booktabs, hyperref, natbib and graphicx."
)
_UNDEFINED = re.compile(
    r"(LaTeX Warning: (Reference|Citation) .* undefined"
    r"|LaTeX Warning: There were undefined (references|citations)"
    r"|Package natbib Warning: Citation .* undefined"
    r"|LaTeX Warning: Label .* multiply defined"
    r"|I didn't find a database entry for .*)"
)


class PaperBuildError(RuntimeError):
    pass


def check_log(*logs: str | Path) -> list[str]:
    """Lines of the LaTeX / BibTeX logs that report undefined references or citations."""
    bad: list[str] = []
    for log in logs:
        path = Path(log)
        if path.is_file():
            text = path.read_text(errors="replace")
            bad += [m.group(0) for m in _UNDEFINED.finditer(text)]
    return bad


def first_error(log: Path, proc: subprocess.CompletedProcess) -> str:
    """The first LaTeX error of the log (``file:line: …`` with -file-line-error, or ``! …``)
    with the lines that follow it; latexmk's own output if the log has none."""
    lines = log.read_text(errors="replace").splitlines() if log.is_file() else []
    for i, line in enumerate(lines):
        if line.startswith("!") or re.match(r"^\S+\.(tex|sty|cls|bbl):\d+: ", line):
            return "\n".join(lines[i : i + 8])
    return "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])


def build_pdf(
    tex: str | Path, out: str | Path, search_path: Sequence[str | Path], build_dir: str | Path
) -> Path:
    """latexmk ``tex`` with ``search_path`` on TEXINPUTS/BIBINPUTS; the PDF lands at ``out``."""
    if shutil.which("latexmk") is None or shutil.which("pdflatex") is None:
        raise PaperBuildError(INSTALL_HINT)
    tex = Path(tex).resolve()
    build = Path(build_dir).resolve()
    build.mkdir(parents=True, exist_ok=True)
    dirs = [str(tex.parent), *(str(Path(p).resolve()) for p in search_path)]
    inputs = os.pathsep.join(dirs) + os.pathsep  # trailing separator keeps the system path
    env = {**os.environ, "TEXINPUTS": inputs, "BIBINPUTS": inputs, "SOURCE_DATE_EPOCH": "0"}
    cmd = [
        "latexmk",
        "-pdf",
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-file-line-error",
        f"-outdir={build}",
        str(tex),
    ]
    proc = subprocess.run(cmd, env=env, cwd=tex.parent, capture_output=True, text=True)
    log = build / f"{tex.stem}.log"
    if proc.returncode != 0:
        raise PaperBuildError(f"latexmk failed on {tex} (log: {log}):\n{first_error(log, proc)}")
    bad = check_log(log, build / f"{tex.stem}.blg")
    if bad:
        raise PaperBuildError(f"{tex}: undefined references or citations:\n" + "\n".join(bad))
    with atomic_path(out) as tmp:
        shutil.copyfile(build / f"{tex.stem}.pdf", tmp)
    return Path(out)
