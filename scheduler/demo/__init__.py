"""The Kansas City demo practice: a data file and its loader."""
