"""Category label files: Places205's categoryIndex_places205.csv, ImageNet's
synset_words.txt, Places365's categories_places365.txt and IO_places365.txt.

Labels are optional: they name classes in reports and drive the indoor/outdoor filter.
Places365's list ships with geovec (weights/IO_places365.txt) and is its default.
"""

from __future__ import annotations

from pathlib import Path

from geovec.errors import LabelsError


def read_labels(path: str | Path, num_classes: int) -> list[str]:
    """Read one label per class, in class-index order.

    Understands ``/a/abbey 0`` lines (categoryIndex_places205.csv, categories_places365.txt:
    category path and index, the indices 0 ... N-1 in any order), ``/a/airfield 2`` lines
    whose numbers are all 1 or 2 (IO_places365.txt: category path and indoor 1 / outdoor 2,
    in class order), ``n01440764 tench, Tinca tinca`` lines (synset_words.txt: WordNet id
    and names) and plain one-label-per-line files.

    Raises:
      LabelsError: unreadable file, or not exactly ``num_classes`` labels.
    """
    path = Path(path)
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelsError(f"{path}: cannot read the label file ({exc})") from exc
    lines = [line for line in lines if line]
    labels: list[str | None] = [None] * len(lines)
    numbers = [_index_of(line) for line in lines]
    indexed = bool(lines) and all(n is not None for n in numbers)
    if indexed and sorted(numbers) != list(range(len(lines))) and set(numbers) <= {1, 2}:
        indexed = False  # IO_places365.txt: the number is indoor/outdoor, the order the class
        lines = [line.rsplit(maxsplit=1)[0] for line in lines]
    for order, line in enumerate(lines):
        if indexed:
            name, index = line.rsplit(maxsplit=1)
            if not 0 <= int(index) < len(lines) or labels[int(index)] is not None:
                raise LabelsError(f"{path}: bad or repeated class index in line {line!r}")
            labels[int(index)] = name
        elif line[:1] == "n" and line.split(maxsplit=1)[0][1:].isdigit():
            labels[order] = line.split(maxsplit=1)[1] if " " in line else line
        else:
            labels[order] = line
    if len(labels) != num_classes:
        raise LabelsError(
            f"{path}: has {len(labels)} labels, the network has {num_classes} classes"
        )
    return [str(label) for label in labels]


def _index_of(line: str) -> int | None:
    parts = line.rsplit(maxsplit=1)
    if len(parts) == 2 and parts[1].isdigit():
        return int(parts[1])
    return None
