"""Cohort selection and panel decisions (placeholder, filled below)."""
