"""Signing in: password hashes (:mod:`.passwords`) and which new passwords are refused
(:mod:`.password_policy`), API tokens and the feed's secret address (:mod:`.tokens`), the
throttle on failed sign-ins (:mod:`.login_throttle`) and two-factor codes (:mod:`.totp`), kept
in the database so that every process shares them. May import the models and settings only."""
