"""Example training scripts: plain PyTorch, plus the two lines of `dltui.watch`.

Not scenarios: run them with `python dltui/examples/NAME.py` (as before) or
`dltui watch dltui/examples/NAME.py` (live).
"""
