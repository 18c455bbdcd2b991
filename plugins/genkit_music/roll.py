"""`--piano-roll`: a tune as a picture, with its pitch axis (note names at every C) and bar numbers.

The labels use a 3x5 pixel font drawn here rather than a system font, so the PNG's bytes are the
same on every machine and Pillow version (seeds reproduce files byte for byte).
"""

from __future__ import annotations

import numpy as np

from genkit_music import data

# 3x5 glyphs, one string per row ("#" = ink). Only what the labels need: C, digits and minus.
_GLYPHS = {
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", "###", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", ".#.", ".#.", ".#."),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
    "C": (".##", "#..", "#..", "#..", ".##"),
    "-": ("...", "...", "###", "...", "..."),
}
GLYPH_W, GLYPH_H = 3, 5
INK, AXIS, PAPER = 40, 80, 250
NOTE_RGB = (30, 70, 160)
LEFT = 4 * (GLYPH_W + 1) + 2  # room for "C-1" and a tick; the roll starts right of it
TOP = GLYPH_H + 2  # room for bar numbers


def draw_text(image: np.ndarray, text: str, x: int, y: int, value: int = INK) -> None:
    """Stamp ``text`` with its top-left corner at (x, y); pixels off the picture are dropped."""
    for k, char in enumerate(text):
        for row, line in enumerate(_GLYPHS[char]):
            for col, cell in enumerate(line):
                yy, xx = y + row, x + k * (GLYPH_W + 1) + col
                if cell == "#" and 0 <= yy < image.shape[0] and 0 <= xx < image.shape[1]:
                    image[yy, xx] = value


def note_name(pitch: int) -> str:
    """Scientific pitch name of a C: MIDI 60 is C4."""
    return f"C{pitch // 12 - 1}"


def pitch_span(pitches: list[int]) -> tuple[int, int]:
    """Two semitones of margin each side, widened down to a C so the axis always has a label."""
    low, high = min(pitches) - 2, max(pitches) + 2
    if not any(p % 12 == 0 for p in range(low, high + 1)):
        low -= low % 12
    return max(low, 0), min(high, 127)


def piano_roll(midi, meter: str, tempo: float, cell_w: int = 4, cell_h: int = 5) -> np.ndarray:
    """The tune as an RGB picture: time left to right (bar lines dark, beats light, bars numbered on
    top, a pickup measure unnumbered), pitch upwards with C's named on the left."""
    notes = [n for inst in midi.instruments for n in inst.notes]
    step_s = 60.0 / tempo / data.STEPS_PER_QUARTER
    total, pickup = tune_steps(midi, tempo), pickup_steps(midi)
    low, high = pitch_span([n.pitch for n in notes] or [60])
    rows = high - low + 1
    image = np.full((TOP + rows * cell_h, LEFT + total * cell_w, 3), PAPER, dtype=np.uint8)
    roll = image[TOP:, LEFT:]  # a view: drawing on it draws on the picture
    for p in range(low, high + 1):  # shade the black keys' rows, as on a keyboard
        if p % 12 in (1, 3, 6, 8, 10):
            roll[(high - p) * cell_h : (high - p + 1) * cell_h] = 236
    _draw_time_grid(image, meter, total, pickup, cell_w)
    for n in notes:
        x0, x1 = round(n.start / step_s) * cell_w, round(n.end / step_s) * cell_w
        y = (high - n.pitch) * cell_h
        roll[y + 1 : y + cell_h - 1, x0 + 1 : max(x0 + 2, x1 - 1)] = NOTE_RGB
    _draw_pitch_axis(image, low, high, cell_h)
    return image


def _draw_time_grid(image, meter: str, total: int, pickup: int, cell_w: int) -> None:
    num, den = (int(x) for x in meter.split("/"))
    bar = data.bar_steps(meter)
    beat = bar // (num // 3 if den == 8 and num % 3 == 0 else num)  # 6/8 has two dotted-quarter beats
    roll = image[TOP:, LEFT:]
    for t in range(pickup % beat, total + 1, beat):
        x = min(t * cell_w, roll.shape[1] - 1)
        on_bar = (t - pickup) % bar == 0
        roll[:, x] = AXIS if on_bar or t == 0 else 200
        if on_bar and t < total:
            draw_text(image, str((t - pickup) // bar + 1), LEFT + x + 2, 0)


def _draw_pitch_axis(image, low: int, high: int, cell_h: int) -> None:
    image[TOP:, LEFT - 1] = AXIS
    for p in range(low, high + 1):
        if p % 12 == 0:
            y = TOP + (high - p) * cell_h
            draw_text(image, note_name(p), 0, y + (cell_h - GLYPH_H) // 2)
            image[y + cell_h // 2, LEFT - 3 : LEFT - 1] = AXIS  # a tick at the C's row


def tune_steps(midi, tempo: float) -> int:
    """Length in sixteenth steps, to the end-of-tune marker that decode writes (else the last note)."""
    ends = [t.time for t in midi.text_events if t.text == "end"]
    seconds = max(ends) if ends else midi.get_end_time()
    return round(seconds * tempo * data.STEPS_PER_QUARTER / 60.0)


def pickup_steps(midi) -> int:
    meter, pad = data.pickup_of(midi)
    return data.bar_steps(meter) - pad if meter else 0
