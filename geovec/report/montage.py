"""Montages: rows of labelled thumbnails (Figures 5, 6 and 8 of the paper), drawn with
Pillow; a missing or unreadable image becomes a grey square. Text is drawn with Pillow's
scalable default font at sizes a reader can read where the page shows the montage."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from geovec.report.paths import output_file

LABEL_PX = 20
"""Row labels' font size (pixels)."""
CAPTION_PX = 14
"""Captions' font size (pixels): two lines under each thumbnail."""


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, lines: int = 2) -> list[str]:
    """``text`` cut into at most ``lines`` lines of at most ``width`` pixels (the last one
    ends with an ellipsis when text is left over)."""
    out, rest = [], text
    while rest and len(out) < lines:
        cut = len(rest)
        while cut > 1 and draw.textlength(rest[:cut], font=font) > width:
            cut -= 1
        out.append(rest[:cut])
        rest = rest[cut:]
    if rest and out:
        line = out[-1]
        while line and draw.textlength(line + "…", font=font) > width:
            line = line[:-1]
        out[-1] = line + "…"
    return out


def _wrap_words(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """``text`` in lines of whole words, each at most ``width`` pixels where a word fits."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def montage(rows: list[tuple[str, list[tuple[str, str]]]], path: Path, thumb: int = 160) -> Path:
    """A grid of thumbnails: each row a label and a list of (image path, caption)."""
    label_font = ImageFont.load_default(size=LABEL_PX)
    caption_font = ImageFont.load_default(size=CAPTION_PX)
    width = max((len(items) for _, items in rows), default=1)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_w = 16 + max(
        (probe.textlength(w, font=label_font) for label, _ in rows for w in label.split()),
        default=100,
    )
    label_w = int(max(label_w, 120))
    row_h = thumb + 2 * (CAPTION_PX + 4) + 10
    canvas = Image.new("RGB", (label_w + width * (thumb + 8), len(rows) * row_h), "white")
    draw = ImageDraw.Draw(canvas)
    for r, (label, items) in enumerate(rows):
        top = r * row_h
        words = _wrap_words(draw, label, label_font, label_w - 12)
        for i, line in enumerate(words):
            y = top + thumb // 2 - (len(words) * (LABEL_PX + 2)) // 2 + i * (LABEL_PX + 2)
            draw.text((6, y), line, fill="black", font=label_font)
        for c, (image_path, caption) in enumerate(items):
            try:
                with Image.open(image_path or "") as img:  # none: imported embeddings
                    img = img.convert("RGB")
                    img.thumbnail((thumb, thumb))
            except (OSError, ValueError):
                img = Image.new("RGB", (thumb, thumb), "grey")
            left = label_w + c * (thumb + 8)
            canvas.paste(img, (left, top))
            for i, line in enumerate(_wrap(draw, caption, caption_font, thumb)):
                y = top + thumb + 3 + i * (CAPTION_PX + 3)
                draw.text((left, y), line, fill="black", font=caption_font)
    path = output_file(path, set(Image.registered_extensions()))
    canvas.save(path)
    return path
