"""Rounds: visit scheduling and day routes for medical and oncology massage therapists.

The domain layer: records, calendar, availability, planning, e-mail. It imports nothing from
Flask; :mod:`scheduler.optimizer` imports nothing from the rest of it.
"""
