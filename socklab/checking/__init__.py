"""What lab checkers use: fixtures come from the plugin; helpers from these modules.

- ``socklab.checking.observe``: make exchanges through the probe and see the bytes;
- ``socklab.checking.expect``: assertions that say what was expected and observed;
- ``socklab.checking.programs``: the student's programs (the ``programs`` fixture).
"""
