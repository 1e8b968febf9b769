"""Values from the data used as labels: one line, short enough for a page, and one label per value.

A site id is whatever the registry wrote: `AVL`, a hospital's full name, or, by mistake, a cell of 200,000
characters, a line break, a control character. The CSV files keep every value whole. Where a value labels
something a reader looks at (a figure's axis or heading, a file name, a heading or cell of the report) it is
shown through `short_labels`: control characters escaped as on the terminal (`oligo_cohort.terminal`), and a
value longer than `MAX_LABEL_CHARACTERS` cut in the middle (`Antoni van Leeuwenhoek Zie…sterdam-Noord`), so
that its beginning and its end stay readable. Two values never share a label: when cutting makes two alike, each
ends with a digest of its whole value instead (docs/decisions.md D60).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from oligo_cohort.terminal import one_line

MAX_LABEL_CHARACTERS = 40
ELLIPSIS = "…"
_DIGEST_CHARACTERS = 6


def short_label(value: str, limit: int = MAX_LABEL_CHARACTERS, render: Callable[[str], str] = one_line) -> str:
    """`value` on one line (`render`: control characters escaped), cut in the middle to at most `limit`
    characters (an ellipsis marks the cut)."""
    line = render(value)
    if len(line) <= limit:
        return line
    head = (limit - 1) * 2 // 3
    tail = limit - 1 - head
    return line[:head] + ELLIPSIS + line[len(line) - tail :]


def short_labels(
    values: Iterable[str], limit: int = MAX_LABEL_CHARACTERS, render: Callable[[str], str] = one_line
) -> dict[str, str]:
    """A label per distinct value (`short_label`), distinct values getting distinct labels.

    A value whose label another value shares ends in `#` and a digest of the whole value instead of its last
    characters, so that sites whose names differ only in the middle stay apart. `render` writes a value as one
    line of what the label can show (a figure also escapes what its fonts cannot draw).
    """
    labels = {value: short_label(value, limit, render) for value in dict.fromkeys(values)}
    holders: dict[str, list[str]] = {}
    for value, label in labels.items():
        holders.setdefault(label, []).append(value)
    for label, shared in holders.items():
        if len(shared) < 2:
            continue
        whole = [value for value in shared if render(value) == label]
        for value in shared:
            if len(whole) != 1 or value != whole[0]:  # a value shown whole and alone keeps its label
                labels[value] = _digest_label(value, limit, render)
    return labels


def _digest_label(value: str, limit: int, render: Callable[[str], str]) -> str:
    digest = "#" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST_CHARACTERS]
    return render(value)[: limit - len(digest) - 1] + ELLIPSIS + digest
