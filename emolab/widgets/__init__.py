"""Interactive views for the notebooks (ipywidgets in a live kernel, a static player without one)."""

from emolab.widgets.emotion_pad import EmotionPad, emotion_pad, in_live_kernel

__all__ = ["EmotionPad", "emotion_pad", "in_live_kernel"]
