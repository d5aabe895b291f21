"""The shared figure helpers: the panel grid and the one-legend helper."""

import matplotlib.pyplot as plt
import pytest

from emolab.plots.style import MAX_PANELS_PER_ROW, legend_of_lines, panel_grid

plt.switch_backend("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("n, rows, spare", [(1, 1, 0), (3, 1, 0), (4, 2, 2), (5, 2, 1), (6, 2, 0), (7, 3, 2)])
def test_panel_grid_holds_at_most_three_panels_a_row(n, rows, spare):
    fig, panels, left = panel_grid(n, (3.0, 2.0), legend_width=1.5)
    assert len(panels) == n and len(left) == spare
    assert all(ax.axison for ax in panels) and not any(ax.axison for ax in left)
    geometry = panels[0].get_gridspec().get_geometry()
    assert geometry == (rows, min(n, MAX_PANELS_PER_ROW))
    # panels in reading order: row by row
    starts = [(ax.get_subplotspec().rowspan.start, ax.get_subplotspec().colspan.start) for ax in panels]
    assert starts == sorted(starts)
    # room for an outside legend only where no cell is spare
    width = 3.0 * min(n, MAX_PANELS_PER_ROW) + (1.5 if spare == 0 else 0.0)
    assert fig.get_size_inches() == pytest.approx((width, 2.0 * rows))


def test_panel_grid_needs_a_panel():
    with pytest.raises(ValueError, match="at least one panel"):
        panel_grid(0, (3.0, 2.0))


def test_legend_of_lines_names_each_label_once_in_a_cell_or_outside():
    fig, panels, spare = panel_grid(5, (3.0, 2.0))
    for ax in panels:
        ax.plot([0, 1], [0, 1], label="a")
    panels[2].plot([0, 1], [1, 0], label="b")
    legend_of_lines(spare[0], panels)
    assert [t.get_text() for t in spare[0].get_legend().get_texts()] == ["a", "b"] and not fig.legends
    fig2, panels2, _ = panel_grid(3, (3.0, 2.0))
    panels2[0].plot([0, 1], [0, 1], label="c")
    legend_of_lines(fig2, panels2)
    (legend,) = fig2.legends
    assert [t.get_text() for t in legend.get_texts()] == ["c"]


def test_legend_of_lines_given_the_figure_fills_its_spare_cell():
    fig, panels, spare = panel_grid(4, (3.0, 2.0))
    panels[0].plot([0, 1], [0, 1], label="a")
    legend_of_lines(fig, panels)
    assert not fig.legends and [t.get_text() for t in spare[0].get_legend().get_texts()] == ["a"]
    assert spare[1].get_legend() is None


def test_panel_grid_labels_the_first_panel_of_each_row():
    _, panels, _ = panel_grid(5, (3.0, 2.0), ylabel="loss")
    assert [ax.get_ylabel() for ax in panels] == ["loss", "", "", "loss", ""]
    _, panels, _ = panel_grid(4, (3.0, 2.0), cols=2, ylabel="acc")
    assert [ax.get_ylabel() for ax in panels] == ["acc", "", "acc", ""]
