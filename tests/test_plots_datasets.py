"""Figures of the datasets appendix: the class grid and the circumplex of the taxonomies."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from emolab.data import taxonomy
from emolab.plots import datasets as pd_

plt.switch_backend("Agg")

TAXONOMIES = {"Ekman": taxonomy.EKMAN7, "Mikels": taxonomy.MIKELS8}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_circumplex_points_merge_classes_at_one_place():
    points = pd_.circumplex_points(TAXONOMIES, taxonomy.VALENCE_AROUSAL)
    by_names = {tuple(names): owners for _, _, names, owners in points}
    # angry and anger, sad and sadness share their anchors; disgust and fear are in both
    assert by_names[("angry", "anger")] == ["Ekman", "Mikels"]
    assert by_names[("sad", "sadness")] == ["Ekman", "Mikels"]
    assert by_names[("disgust",)] == by_names[("fear",)] == ["Ekman", "Mikels"]
    assert by_names[("happy",)] == ["Ekman"] and by_names[("awe",)] == ["Mikels"]
    names = [n for _, _, ns, _ in points for n in ns]
    assert sorted(names) == sorted(set(taxonomy.EKMAN7) | set(taxonomy.MIKELS8))
    assert len({(v, a) for v, a, _, _ in points}) == len(points)


def test_circumplex_draws_one_point_and_one_label_per_place():
    fig = pd_.fig_circumplex(TAXONOMIES, taxonomy.VALENCE_AROUSAL)
    (ax,) = fig.axes
    points = pd_.circumplex_points(TAXONOMIES, taxonomy.VALENCE_AROUSAL)
    drawn = np.concatenate([c.get_offsets() for c in ax.collections])
    assert len(drawn) == len(points)
    np.testing.assert_allclose(sorted(map(tuple, drawn)), sorted((v, a) for v, a, _, _ in points))
    labels = {t.get_text(): t for t in ax.texts}
    assert set(labels) == {" / ".join(ns) for _, _, ns, _ in points}
    # labels on the outer side: left of a negative-valence point, right of a lone positive one
    assert labels["sad / sadness"].get_ha() == "right" and labels["contentment"].get_ha() == "left"
    # of the crowded pair fear / angry, the right one's label moves above its point
    assert labels["angry / anger"].get_va() == "bottom"
    both = [c for c in ax.collections if tuple(np.round(c.get_offsets()[0], 2)) == (-0.6, 0.35)]
    assert len(both) == 1  # disgust, drawn once
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Ekman", "Mikels", "Ekman and Mikels"]


def test_circumplex_needs_one_colour_per_taxonomy():
    with pytest.raises(ValueError, match="one colour per taxonomy"):
        pd_.fig_circumplex(TAXONOMIES, taxonomy.VALENCE_AROUSAL, colors=("C0",))
