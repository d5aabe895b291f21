"""The emotion pad: pick a point of GANmut's learned space and see the face it makes.

* In a live kernel, :meth:`EmotionPad.widget` is an ipywidgets pad: the map of
  the space (a grid of buttons coloured by the judge's reading of the face
  each point makes; click one) or the angle and intensity sliders (drag
  them); the generated face updates at once (one generator pass per move,
  :meth:`EmotionPad.latency` measures it).
* Without a kernel (the static HTML book), :meth:`EmotionPad.player` is a
  precomputed, scrubbable matplotlib ``to_jshtml`` player of the same gamut: a
  tour out from neutral along each learned direction and round the rim
  (:func:`emolab.experiments.ganmut.gamut_path`), the map with a moving marker
  beside the face.

:func:`emotion_pad` returns whichever fits.
"""

from __future__ import annotations

import io
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import animation

from emolab.core.errors import ConfigError
from emolab.data.taxonomy import EKMAN7
from emolab.experiments.ganmut import gamut_path, map_codes, space_map
from emolab.methods.ganmut import GANmut
from emolab.plots.ganmut import draw_space, map_rgb, to_image
from emolab.plots.style import EMOTION_COLORS


def in_live_kernel() -> bool:
    """True inside an IPython kernel (where ipywidgets can talk back to Python)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class EmotionPad:
    """One face, one trained GANmut (linear or Gaussian), and the judge that colours the map.

    Args:
        model: a trained :class:`~emolab.methods.ganmut.GANmut`.
        source: the face to edit, ``[C, S, S]`` in [-1, 1] (any side the generator takes,
            a multiple of 4).
        judge: the emotion judge (colours the map; None: a grey map).
        device: where the generator runs.
        map_size: points per side of the clickable map.
        display_px: the face's side on screen.
    """

    def __init__(self, model: GANmut, source: torch.Tensor, judge=None, *, device="cpu", map_size: int = 15,
                 display_px: int = 192):
        if not isinstance(model, GANmut):
            raise ConfigError(f"the emotion pad needs a trained GANmut, got {type(model).__name__}")
        if source.ndim != 3:
            raise ConfigError(f"source must be one image [C, S, S], got {tuple(source.shape)}")
        if map_size < 3:
            raise ConfigError("map_size must be >= 3")
        self.model, self.judge, self.device = model, judge, torch.device(device)
        self.source = source.to(self.device)
        self.map_size, self.display_px = map_size, display_px
        self.gaussian = model.gaussian
        self._probs = None

    # -- the space
    def code(self, angle_deg: float, intensity: float) -> torch.Tensor:
        """The point at ``angle_deg`` and radius ``intensity`` (in [0, 1]), ``[1, 2]``."""
        if not 0.0 <= intensity <= 1.0:
            raise ConfigError(f"intensity must be in [0, 1], got {intensity}")
        a = math.radians(angle_deg)
        return torch.tensor([[intensity * math.cos(a), intensity * math.sin(a)]])

    def map_probs(self) -> np.ndarray:
        """The judge's softmax over the map grid (computed once), ``[n, n, 7]``."""
        if self._probs is None:
            if self.judge is None:
                n = self.map_size
                codes, inside = map_codes(self.model, n)
                probs = np.full((n * n, len(EKMAN7)), np.nan)
                probs[inside.numpy()] = 0.0
                probs[inside.numpy(), EKMAN7.index("neutral")] = 1.0
                self._probs = probs.reshape(n, n, -1)
            else:
                self._probs = space_map(self.model, self.judge, self.source, self.device, self.map_size)
        return self._probs

    @torch.no_grad()
    def face(self, z: torch.Tensor) -> np.ndarray:
        """``G(source, z)`` as ``[S, S, 3]`` in [0, 1]."""
        return to_image(self.model.generate(self.source[None], z.to(self.device))[0])

    def png(self, z: torch.Tensor) -> bytes:
        from PIL import Image

        img = (self.face(z) * 255).round().astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="PNG")
        return buf.getvalue()

    # -- live
    def widget(self):
        """The live pad (ipywidgets): map buttons, angle and intensity sliders, the face."""
        import ipywidgets as w

        image = w.Image(value=self.png(self.code(0, 0)), format="png", width=self.display_px,
                        height=self.display_px)
        angle = w.FloatSlider(0.0, min=0.0, max=360.0, step=1.0, description="angle (°)", continuous_update=True)
        inten = w.FloatSlider(0.0, min=0.0, max=1.0, step=0.01, description="intensity", continuous_update=True)
        status = w.HTML()
        hold = {"on": False}

        def refresh(_=None):
            if hold["on"]:
                return
            t = time.perf_counter()
            z = self.code(angle.value, inten.value)
            image.value = self.png(z)
            status.value = (f"z = ({z[0, 0]:+.2f}, {z[0, 1]:+.2f}) &nbsp; "
                            f"<small>update {1000 * (time.perf_counter() - t):.0f} ms</small>")

        angle.observe(refresh, names="value")
        inten.observe(refresh, names="value")

        probs = self.map_probs()
        n = self.map_size
        codes, inside = map_codes(self.model, n)
        rgb = map_rgb(probs).reshape(-1, 3)
        buttons = []
        for k, (u, v) in enumerate(codes.tolist()):
            ok = bool(inside[k])
            b = w.Button(layout=w.Layout(width="18px", height="18px", padding="0", margin="0"),
                         disabled=not ok, tooltip=self._tooltip(probs.reshape(-1, probs.shape[-1])[k]) if ok else "")
            b.style.button_color = "#%02x%02x%02x" % tuple(int(255 * c) for c in rgb[k])

            def click(_, u=u, v=v):
                hold["on"] = True
                angle.value = math.degrees(math.atan2(v, u)) % 360
                inten.value = min(1.0, math.hypot(u, v))
                hold["on"] = False
                refresh()

            b.on_click(click)
            buttons.append(b)
        grid = w.GridBox(buttons, layout=w.Layout(grid_template_columns=f"repeat({n}, 18px)",
                                                  grid_gap="0px", width=f"{18 * n + 4}px"))
        legend = w.HTML(" ".join(f'<span style="color:{EMOTION_COLORS[e]}">■ {e}</span>' for e in EKMAN7))
        refresh()
        return w.VBox([w.HBox([w.VBox([w.HTML("<b>click the map</b>"), grid]), w.VBox([image, status])]),
                       angle, inten, legend])

    @staticmethod
    def _tooltip(p: np.ndarray) -> str:
        top = np.argsort(p)[::-1][:3]
        return ", ".join(f"{EKMAN7[i]} {p[i]:.2f}" for i in top)

    def latency(self, n: int = 20) -> dict:
        """Milliseconds per move (one generator pass and the PNG), median and 90th percentile."""
        times = []
        rng = np.random.default_rng(0)
        self.png(self.code(0, 0))  # warm-up
        for _ in range(n):
            z = self.code(float(rng.uniform(0, 360)), float(rng.uniform(0, 1)))
            t = time.perf_counter()
            self.png(z)
            times.append(1000 * (time.perf_counter() - t))
        return {"median_ms": float(np.median(times)), "p90_ms": float(np.percentile(times, 90)),
                "side_px": int(self.source.shape[-1])}

    # -- static
    def frames(self, per_leg: int = 4) -> torch.Tensor:
        return gamut_path(self.model, per_leg)

    def player(self, per_leg: int = 3, fps: int = 3, dpi: int = 56) -> str:
        """The scrubbable player (HTML of ``FuncAnimation.to_jshtml``) of the gamut tour."""
        codes = self.frames(per_leg)
        faces = [self.face(z[None]) for z in codes]
        fig, (ax_map, ax_face) = plt.subplots(1, 2, figsize=(6.4, 3.3), dpi=dpi)
        draw_space(ax_map, self.model, self.map_probs())
        marker, = ax_map.plot([], [], "o", ms=10, mfc="w", mec="k", mew=2)
        shown = ax_face.imshow(faces[0])
        ax_face.set_axis_off()
        title = ax_face.set_title("")

        def step(i):
            u, v = codes[i].tolist()
            marker.set_data([u], [v])
            shown.set_data(faces[i])
            title.set_text(f"z = ({u:+.2f}, {v:+.2f})")
            return marker, shown, title

        fig.tight_layout()
        anim = animation.FuncAnimation(fig, step, frames=len(codes), interval=1000 // fps, blit=False)
        html = anim.to_jshtml(fps=fps, default_mode="loop")
        plt.close(fig)
        return html


def emotion_pad(model: GANmut, source: torch.Tensor, judge=None, *, live: bool | None = None, device="cpu",
                **kwargs):
    """The pad that fits: the live ipywidgets pad in a kernel (``live=None`` detects it), else the
    static player as ``IPython.display.HTML`` (a plain HTML string without IPython)."""
    pad = EmotionPad(model, source, judge, device=device, **kwargs)
    if live is None:
        live = in_live_kernel()
    if live:
        return pad.widget()
    html = pad.player()
    try:
        from IPython.display import HTML
    except ImportError:
        return html
    return HTML(html)
