"""Class scale: batch grading, several grading hosts, the student template."""
