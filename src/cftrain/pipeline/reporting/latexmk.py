"""Building the paper PDF with latexmk, strict about what a reader would see (issues 15, 27).

TeX Live comes from Debian packages (``.ci/install-tex.sh``); where latexmk is missing the
error names the packages to install. After the build the log is checked (:func:`check_log`):
an undefined reference or citation fails it, as do an overfull box wider than
:data:`OVERFULL_TOLERANCE_PT` (a table or figure cut at the page edge), a float too large
for its page, and any LaTeX error (``-halt-on-error``). The PDF's text is checked too
(:func:`check_text`): ``¡`` or ``¿`` mean a ``<`` or ``>`` was typeset in the wrong font
encoding.
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


OVERFULL_TOLERANCE_PT = 1.0  # wider than this is visible: text or a table cut at the margin
_OVERFULL = re.compile(r"^(Overfull \\[hv]box \((\d+(?:\.\d+)?)pt too (?:wide|high)\) .*)$", re.M)
_FLOAT = re.compile(r"^(LaTeX Warning: Float too large for page .*)$", re.M)
# what pdflatex prints for < and > of an OT1 text font: the text is wrong, not the build
WRONG_GLYPHS = ("\u00a1", "\u00bf")  # ¡ ¿


class PaperBuildError(RuntimeError):
    pass


def check_log(*logs: str | Path) -> list[str]:
    """Lines of the LaTeX / BibTeX logs that report undefined references or citations, an
    overfull box wider than :data:`OVERFULL_TOLERANCE_PT` or a float too large for its page."""
    bad: list[str] = []
    for log in logs:
        path = Path(log)
        if path.is_file():
            text = path.read_text(errors="replace")
            bad += [m.group(0) for m in _UNDEFINED.finditer(text)]
            bad += [
                m.group(1)
                for m in _OVERFULL.finditer(text)
                if float(m.group(2)) > OVERFULL_TOLERANCE_PT
            ]
            bad += [m.group(1) for m in _FLOAT.finditer(text)]
    return bad


def check_text(text: str) -> list[str]:
    """Lines of the PDF's text (``pdftotext``) holding a glyph of a wrong font encoding."""
    return [line.strip() for line in text.splitlines() if any(g in line for g in WRONG_GLYPHS)]


def pdf_text(pdf: str | Path) -> str:
    """The text of ``pdf`` by ``pdftotext`` (poppler-utils)."""
    if shutil.which("pdftotext") is None:
        raise PaperBuildError(INSTALL_HINT)
    proc = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise PaperBuildError(f"pdftotext failed on {pdf}: {proc.stderr.strip()}")
    return proc.stdout


_REF = re.compile(r"\\(?:[cC]?ref|eqref|autoref|pageref)\{([^}]+)\}")
_NEWLABEL = re.compile(r"^\\newlabel\{([^}]+)\}", re.M)


def unreferenced_labels(aux: str | Path, sources: list[str | Path]) -> list[str]:
    """Labels of tables, figures and sections that the build defined (``\\newlabel`` in the
    ``.aux``) but that no ``\\ref`` of ``sources`` (the paper's and the generated ``.tex``)
    points to. Longtable and hyperref helper labels (``LT@…``, ``…@cref``) are not labels of
    the text."""
    defined = (
        _NEWLABEL.findall(Path(aux).read_text(errors="replace")) if Path(aux).is_file() else []
    )
    refs: set[str] = set()
    for source in sources:
        text = Path(source).read_text(errors="replace")
        for match in _REF.finditer(text):
            refs.update(part.strip() for part in match.group(1).split(","))
    return [
        label
        for label in dict.fromkeys(defined)
        if ":" in label and "@" not in label and label not in refs
    ]


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
        raise PaperBuildError(
            f"{tex} (log: {log}): a reader would see these faults:\n" + "\n".join(bad)
        )
    pdf = build / f"{tex.stem}.pdf"
    bad = check_text(pdf_text(pdf))
    if bad:
        raise PaperBuildError(
            f"{pdf}: a '<' or '>' typeset as an inverted mark (escape it, see booktabs.escape):\n"
            + "\n".join(bad)
        )
    sources = [*tex.parent.rglob("*.tex"), *(p for d in dirs[1:] for p in Path(d).glob("*.tex"))]
    unreferenced = unreferenced_labels(build / f"{tex.stem}.aux", sources)
    if unreferenced:
        raise PaperBuildError(
            f"{tex}: tables, figures or sections the text never refers to (add a \\ref): "
            + ", ".join(unreferenced)
        )
    with atomic_path(out) as tmp:
        shutil.copyfile(pdf, tmp)
    return Path(out)


#: the pages a reader checks first (issue 27), by PNG stem: the first page holding the text
READER_PAGES = {
    "page_main_table": "Main table: reduction (%) of implausibility",
    "page_poc": "Proof of concept on LS",
    "page_initial_grid": "The seed draft's initial grid: mean plausibility",
}


def page_of(pdf: str | Path, text: str) -> int:
    """The first page (1-based) of ``pdf`` whose text holds ``text`` (spaces normalised)."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    wanted = " ".join(text.split())
    for page in range(1, pages + 1):
        proc = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
            capture_output=True,
            text=True,
        )
        found = " ".join(proc.stdout.replace("\u2019", "'").split())
        if wanted in found:
            return page
    raise PaperBuildError(f"{pdf}: no page holds {text!r}")


def render_pages(
    pdf: str | Path, pages: dict[str, str], out_dir: str | Path, dpi: int = 110
) -> list[Path]:
    """PNG renders of the pages holding each text: ``pages`` maps a file stem to the text
    (e.g. a caption's first words) that finds the page; returns the PNG paths."""
    if shutil.which("pdftoppm") is None:
        raise PaperBuildError(INSTALL_HINT)
    written = []
    for stem, text in pages.items():
        page = page_of(pdf, text)
        out = Path(out_dir) / f"{stem}.png"
        with atomic_path(out) as tmp:
            prefix = tmp.with_suffix("")
            subprocess.run(
                [
                    "pdftoppm",
                    "-f",
                    str(page),
                    "-l",
                    str(page),
                    "-r",
                    str(dpi),
                    "-png",
                    "-singlefile",
                    str(pdf),
                    str(prefix),
                ],
                check=True,
            )
            Path(f"{prefix}.png").replace(tmp)
        written.append(out)
    return written
