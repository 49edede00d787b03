"""The ladder's rule modules, one per part of the guideline, in the order a reader meets them."""

from . import contraindications, first_line, medication_safety, second_line, step4, targets, trials, workup

ALL = [targets, trials, first_line, medication_safety, workup, second_line, step4, contraindications]
