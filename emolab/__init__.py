"""emolab: GAN-based domain adaptation for emotion recognition, as a book.

The package is layered; each layer imports only the ones above it in this list:

``core`` (seeding, devices, profiles, checkpoints, progress, metrics files)
→ ``data`` → ``models`` → ``losses`` → ``training`` → ``methods`` (one module
per paper) → ``experiments`` (what a chapter runs) → ``plots`` → ``bench``
(training throughput) → ``runner`` / ``cli``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
