"""LaTeX booktabs tables: the one writer of every ``.tex`` table (issue 28).

Both the workflow's tables (:func:`cftrain.pipeline.tables.write_table`) and the paper's
fragments (:mod:`cftrain.pipeline.reporting.latex`) escape text, write minus signs and lay
out ``tabular``/``longtable`` here, so they can never typeset the same cell differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

#: an empty cell: a value that is missing, or a dataset or experiment that did not run
MISSING = "--"
MINUS = r"\ensuremath{-}"

_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # an OT1 text font prints < and > as ¡ and ¿: take them from the math font
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    # non-ASCII characters of config values and descriptions (pdflatex has no Greek in text)
    "λ": r"$\lambda$",
    "τ": r"$\tau$",
    "ε": r"$\varepsilon$",
    "φ": r"$\phi$",
    "σ": r"$\sigma$",
    "×": r"$\times$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "→": r"$\rightarrow$",
    "±": r"$\pm$",
    "−": MINUS,
    "–": "--",
    "—": "---",
    "§": r"\S{}",
}
# a hyphen that starts a number (-3.1, [-0.2, …), not one inside a word, range or exponent
_NEGATIVE = re.compile(r"(?<![\w.\-])-(?=\.?\d)")


def escape(text: object) -> str:
    """LaTeX-safe text; other non-ASCII characters become ``?`` so pdflatex never stops."""
    return "".join(_ESCAPES.get(ch, ch if ch.isascii() else "?") for ch in str(text))


def minus(text: str) -> str:
    """Each negative number's hyphen as a minus sign (``-3.1`` → ``\\ensuremath{-}3.1``): a
    hyphen is shorter than a minus and lets a line break after it."""
    return _NEGATIVE.sub(lambda _: MINUS, text)


def tabular(
    header: Sequence[str] | str,
    rows: Iterable[Sequence[str] | str | None],
    align: str | None = None,
    long: bool = False,
    caption: str = "",
    width: int | None = None,
) -> str:
    """A booktabs ``tabular`` (``longtable`` with ``long``, for tables that may span pages;
    ``caption`` = ``"text\\label{…}"`` goes inside it).

    header: the column names, or the LaTeX of the whole header (several rows, rules).
    rows: each a list of LaTeX cells, a string (a full row such as a ``\\multicolumn`` group
    heading, ``\\\\`` added), or ``None`` for a midrule. width: number of columns where the
    header is LaTeX text (for ``align``'s default).
    """
    if isinstance(header, str):
        head_rows = [header]
        n_columns = width or 1
    else:
        head_rows = [" & ".join(header) + r" \\"]
        n_columns = len(header)
    align = align or "l" + "r" * (n_columns - 1)
    env = "longtable" if long else "tabular"
    head = [r"\toprule", *head_rows, r"\midrule"]
    lines = [f"\\begin{{{env}}}{{{align}}}"]
    if long:
        # first page: caption + header; later pages: the header again (label defined once)
        lines += [f"\\caption{{{caption}}}\\\\"] if caption else []
        lines += [*head, r"\endfirsthead", *head, r"\endhead"]
        lines += [r"\midrule", rf"\multicolumn{{{n_columns}}}{{r}}{{\emph{{continued}}}}\\"]
        lines += [r"\endfoot", r"\endlastfoot"]
    else:
        lines += head
    for row in rows:
        if row is None:
            lines.append(r"\midrule")
        elif isinstance(row, str):  # a group heading: kept on the page of its first row
            lines.append(row + r" \\*")
        else:
            lines.append(" & ".join(row) + r" \\")
    lines += [r"\bottomrule", f"\\end{{{env}}}"]
    return "\n".join(lines) + "\n"
