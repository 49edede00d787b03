"""Tutor mode: cases, graded questions from the ruleset."""
