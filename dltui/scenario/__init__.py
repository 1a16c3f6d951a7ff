"""The scenario API: everything a scenario module imports to be run by dltui.

    from dltui.scenario import Panel, Param, Scenario, to_numpy

`Scenario` (base.py) is the class to subclass, `Panel` (panels.py) declares what to show and
documents the data of each panel kind, `Param` (params.py) declares a setting, `show` holds the
number formatting and pictures that several scenarios share (`from dltui.scenario.show import
num, vec`; it imports torch, so this package does not import it). This package runs on the
engine's side of the pipe but imports no torch itself, so the UI can read the declarations too.
"""

from dltui.scenario.base import Scenario, ScenarioError, key_label, to_numpy
from dltui.scenario.panels import Panel
from dltui.scenario.params import Param, Params, UsageError

__all__ = [
    "Panel",
    "Param",
    "Params",
    "Scenario",
    "ScenarioError",
    "UsageError",
    "key_label",
    "to_numpy",
]
