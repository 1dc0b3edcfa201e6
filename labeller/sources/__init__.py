"""Image sources behind one protocol (see ``base``); one module per outside system."""

from labeller.sources.base import Acquisition, ImageSource, Progress, Scene

__all__ = ["Acquisition", "ImageSource", "Progress", "Scene"]
