"""Draw the PNG app icons from the same design as icon.svg: a white cross on a green rounded square.

Run from the repository root with Pillow installed: python fieldapp/static/icons/make_png.py
"""

from pathlib import Path

from PIL import Image, ImageDraw

FOLDER = Path(__file__).parent
GREEN = "#0a6e5c"
# icon.svg's cross in its 64-unit view box.
CROSS = [(26, 14), (38, 14), (38, 26), (50, 26), (50, 38), (38, 38), (38, 50), (26, 50), (26, 38), (14, 38), (14, 26), (26, 26)]
SUPERSAMPLE = 4


def draw(size: int, rounded: bool) -> Image.Image:
    """Draw the icon at size pixels; rounded=False fills the square edge to edge for maskable icons."""
    big = size * SUPERSAMPLE
    scale = big / 64
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    canvas = ImageDraw.Draw(image)
    if rounded:
        canvas.rounded_rectangle((0, 0, big - 1, big - 1), radius=round(12 * scale), fill=GREEN)
    else:
        canvas.rectangle((0, 0, big - 1, big - 1), fill=GREEN)
    canvas.polygon([(x * scale, y * scale) for x, y in CROSS], fill="white")
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    for size in (192, 512):
        draw(size, rounded=True).save(FOLDER / f"icon-{size}.png", optimize=True)
    # Launchers crop maskable icons to a circle or squircle; the cross stays inside the central 80 % safe zone.
    draw(512, rounded=False).save(FOLDER / "icon-maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
