"""The phone ruler: how answer buttons share rows and how tall a message is."""

from __future__ import annotations

from bot.parent.layout import fits_row, option_rows, screen_lines, text_lines


def test_short_options_share_one_row_and_never_four() -> None:
    assert option_rows(["Yes", "No", "Not sure"]) == [[0, 1, 2]]
    assert option_rows(["An IEP", "A 504 plan", "Neither", "Not sure"]) == [[0, 1], [2, 3]]
    assert not fits_row(["a", "b", "c", "d"])


def test_long_options_get_a_row_each_and_pairs_where_both_fit() -> None:
    labels = ["Under 3", "3 to 5, not in kindergarten", "In kindergarten or older"]
    assert option_rows(labels) == [[0], [1], [2]]
    assert option_rows(["Often", "Sometimes", "Rarely or never", "Talks of hurting self"]) == [
        [0, 1],
        [2],
        [3],
    ]


def test_width_budgets_by_row_size() -> None:
    assert fits_row(["x" * 32]) and not fits_row(["x" * 33])
    assert fits_row(["x" * 18, "y" * 18]) and not fits_row(["x" * 19, "y"])
    assert fits_row(["abc"] * 3) and not fits_row(["x" * 11, "y", "z"])


def test_lines_wrap_at_35_characters_and_tags_take_no_room() -> None:
    assert text_lines("short") == 1
    assert text_lines("x" * 35) == 1 and text_lines("x" * 36) == 2
    assert text_lines("<b>bold</b>\n\nafter a blank line") == 3
    assert text_lines("&amp;" * 35) == 1  # an entity is one character on the phone
    assert screen_lines("one line", keyboard_rows=3) == 7
