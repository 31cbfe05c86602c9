"""Labelled data shared by training and evaluation: the TrainingSet and its CSV readers."""
