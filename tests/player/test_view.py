import pytest

from actinr.engines.grid import check_viewport
from actinr.player.view import MAX_ZOOM, View


def test_zoom_keeps_the_point_under_the_cursor():
    v = View()
    assert v.viewport == (0.0, 0.0, 1.0, 1.0)
    before = v.point(0.3, 0.6)
    v.zoom_at(0.3, 0.6, 3)
    assert v.zoom == pytest.approx(1.25 ** 3)
    assert v.point(0.3, 0.6) == pytest.approx(before)
    x0, y0, x1, y1 = check_viewport(v.viewport)
    assert x1 - x0 == pytest.approx(1 / 1.25 ** 3) and y1 - y0 == pytest.approx(1 / 1.25 ** 3)


def test_view_stays_inside_the_frame_and_resets():
    v = View()
    v.zoom_at(1.0, 1.0, 4)  # at the corner: the point cannot stay put without leaving the frame
    check_viewport(v.viewport)
    assert v.viewport[2] == 1.0 and v.viewport[3] == 1.0
    v.pan(5.0, 5.0)  # far past the edge
    assert v.viewport[0] == 0.0 and v.viewport[1] == 0.0
    v.zoom_at(0.5, 0.5, 1000)
    assert v.zoom == MAX_ZOOM
    v.zoom_at(0.5, 0.5, -1000)
    assert v.zoom == 1.0 and v.viewport == (0.0, 0.0, 1.0, 1.0)
    v.zoom_at(0.2, 0.2, 2)
    v.reset()
    assert v.viewport == (0.0, 0.0, 1.0, 1.0)


def test_pan_moves_by_displayed_fraction():
    v = View()
    v.zoom_at(0.5, 0.5, 5)  # centred zoom 3.05x
    x0 = v.viewport[0]
    v.pan(-0.1, 0.0)  # drag left by a tenth of the image: the view moves right by a tenth of its width
    assert v.viewport[0] - x0 == pytest.approx(0.1 / v.zoom)
