"""Finding numbers typed by hand into the paper's sources (issue 15).

Every number in the paper's prose must come from the generated macros file. This scans LaTeX
source for digits that survive after removing what legitimately contains them: comments
(section references to the docs live there), labels, references and citation keys, file names of
``\\input``/``\\includegraphics``/``\\bibliography``, lengths (``0.8\\linewidth``, ``2.5cm``),
single-digit sub/superscripts in math (``\\ell_1``, ``x^2``) and macro arguments (``[1]``,
``#1``). Whatever digit remains is
reported with its line.
"""

from __future__ import annotations

import re
from pathlib import Path

_COMMENT = re.compile(r"(?<!\\)%.*$")
_KEY_ARGS = re.compile(
    r"\\(?:label|ref|eqref|pageref|cite[a-z]*|input|include|includegraphics|bibliography"
    r"|bibliographystyle|usepackage|documentclass|hypersetup|href|url)\*?(?:\[[^\]]*\])*\{[^}]*\}"
)
_OPTIONS = re.compile(r"\\(?:documentclass|usepackage|includegraphics|begin\{[a-z]+\})\[[^\]]*\]")
_LENGTH = re.compile(
    r"[-+]?\d*\.?\d+\s*(?:\\(?:linewidth|textwidth|columnwidth|textheight|baselineskip)"
    r"|pt|em|ex|cm|mm|in|bp)\b"
)
_MATH_INDEX = re.compile(r"[_^](?:\d|\{\d\})")
_MACRO_ARGS = re.compile(r"\\(?:re)?newcommand\{[^}]*\}\[\d\]|#\d")
# layout parameters (float placement, row spacing) are settings of the document, not results
_LAYOUT = re.compile(
    r"\\renewcommand\{\\(?:topfraction|bottomfraction|textfraction|floatpagefraction"
    r"|dbltopfraction|dblfloatpagefraction|arraystretch)\}\{[\d.]+\}"
)
_DIGIT = re.compile(r"\d+(?:\.\d+)?")


def hand_typed_numbers(text: str) -> list[tuple[int, str]]:
    """``(line number, line)`` of every source line that still holds a digit after the
    allowed constructs are removed."""
    hits = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = _COMMENT.sub("", line)
        for pattern in (_KEY_ARGS, _OPTIONS, _LAYOUT, _LENGTH, _MATH_INDEX, _MACRO_ARGS):
            stripped = pattern.sub(" ", stripped)
        if _DIGIT.search(stripped):
            hits.append((number, line.strip()))
    return hits


def scan(paths: list[Path]) -> list[str]:
    """``file:line: text`` for every hand-typed number in ``paths``."""
    return [
        f"{path}:{n}: {line}"
        for path in paths
        for n, line in hand_typed_numbers(Path(path).read_text())
    ]
