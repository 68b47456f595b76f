"""`serve --workers N`: a supervisor and N gateway worker processes on one address."""
