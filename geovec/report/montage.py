"""Montages: rows of labelled thumbnails (Figures 5, 6 and 8 of the paper), drawn with
Pillow; a missing or unreadable image becomes a grey square."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw


def montage(rows: list[tuple[str, list[tuple[str, str]]]], path: Path, thumb: int = 128) -> Path:
    """A grid of thumbnails: each row a label and a list of (image path, caption)."""
    width = max((len(items) for _, items in rows), default=1)
    label_w = 150
    canvas = Image.new("RGB", (label_w + width * (thumb + 4), len(rows) * (thumb + 18)), "white")
    draw = ImageDraw.Draw(canvas)
    for r, (label, items) in enumerate(rows):
        top = r * (thumb + 18)
        draw.text((4, top + thumb // 2), label, fill="black")
        for c, (image_path, caption) in enumerate(items):
            try:
                with Image.open(image_path) as img:
                    img = img.convert("RGB")
                    img.thumbnail((thumb, thumb))
            except OSError:
                img = Image.new("RGB", (thumb, thumb), "grey")
            left = label_w + c * (thumb + 4)
            canvas.paste(img, (left, top))
            draw.text((left, top + thumb + 2), caption[:22], fill="black")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path
