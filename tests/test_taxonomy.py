"""Emotion taxonomies: orders, Mikels' wheel, valence-arousal, label maps."""

import pytest

from emolab.data.taxonomy import (
    EKMAN7,
    FER2013_TRAIN_COUNTS,
    MIKELS8,
    MIKELS_WHEEL,
    VALENCE_AROUSAL,
    circumplex_angle,
    fer2013_priors,
    map_labels,
    to_category,
    wheel_distance,
    wheel_distance_matrix,
)


def test_orders():
    assert EKMAN7 == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert MIKELS8[:4] == ("amusement", "awe", "contentment", "excitement")
    assert sorted(MIKELS_WHEEL) == sorted(MIKELS8)


def test_wheel_distance_is_one_plus_steps():
    for e in MIKELS8:
        assert wheel_distance(e, e) == 1
    n = len(MIKELS_WHEEL)
    for i, e in enumerate(MIKELS_WHEEL):
        assert wheel_distance(e, MIKELS_WHEEL[(i + 1) % n]) == 2
        assert wheel_distance(e, MIKELS_WHEEL[(i + n // 2) % n]) == 5
    d = wheel_distance_matrix()
    assert all(d[i][j] == d[j][i] for i in range(8) for j in range(8))
    assert max(max(row) for row in d) == 5
    with pytest.raises(KeyError, match="not on the wheel"):
        wheel_distance("happy", "awe")


def test_wheel_follows_the_circumplex():
    """Neighbours on the wheel are neighbours in valence-arousal: the wheel is the angular order."""
    by_angle = sorted(MIKELS8, key=circumplex_angle)
    start = by_angle.index(MIKELS_WHEEL[0])
    assert tuple(by_angle[start:] + by_angle[:start]) == MIKELS_WHEEL


def test_valence_arousal_anchors():
    for name in EKMAN7 + MIKELS8:
        v, a = VALENCE_AROUSAL[name]
        assert -1 <= v <= 1 and -1 <= a <= 1
    assert VALENCE_AROUSAL["neutral"] == (0.0, 0.0)
    positive = {"happy", "amusement", "awe", "contentment", "excitement"}
    assert all((VALENCE_AROUSAL[n][0] > 0) == (n in positive) for n in EKMAN7 + MIKELS8 if n != "neutral" and n != "surprise")


def test_fer2013_priors():
    p = fer2013_priors()
    assert sum(p) == pytest.approx(1.0)
    assert min(range(7), key=p.__getitem__) == EKMAN7.index("disgust")
    assert sum(FER2013_TRAIN_COUNTS) == 28709


@pytest.mark.parametrize("dataset, label, expected", [
    ("fer2013", 1, "disgust"), ("fer2013", "fearful", "fear"), ("fer2013", "Surprise", "surprise"),
    ("ckplus", "sadness", "sad"), ("ckplus", 2, "contempt"), ("ckplus", 0, "neutral"),
    ("jaffe", "AN", "angry"), ("jaffe", "NE", "neutral"),
    ("affectnet", 6, "angry"), ("affectnet", 7, "contempt"), ("affectnet", "anger", "angry"),
    ("kdef", "AF", "fear"), ("rafd", "contemptuous", "contempt"),
])
def test_label_maps(dataset, label, expected):
    assert to_category(dataset, label) == expected


def test_label_map_errors_and_projection():
    with pytest.raises(KeyError, match="known:"):
        to_category("jaffe", "XX")
    with pytest.raises(KeyError, match="no label map"):
        to_category("mnist", 3)
    assert map_labels(["anger", "contempt", "happy"], "ckplus") == [0, -1, 3]
    assert map_labels(range(8), "affectnet") == [6, 3, 4, 5, 2, 1, 0, -1]
