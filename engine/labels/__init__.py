"""Label sets (names, synonyms, hierarchy, translations), bundled sets, and the caption noun filter."""

from engine.labels.labelset import Label, LabelSet
from engine.labels.noun_filter import NounFilter

__all__ = ["Label", "LabelSet", "NounFilter"]
