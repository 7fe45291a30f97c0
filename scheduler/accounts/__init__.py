"""Signing in: password hashes (:mod:`.passwords`), API tokens (:mod:`.tokens`) and the
throttle on failed sign-ins (:mod:`.login_throttle`), kept in the database so that every
process shares them. May import the models and settings only."""
