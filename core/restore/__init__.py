"""Restoring a point in time into a destination: plan first, then apply."""

from .apply import RestoreResult, apply_plan
from .plan import OVERWRITE_POLICIES, Action, RestoreOptions, RestorePlan, build_plan

__all__ = ["OVERWRITE_POLICIES", "Action", "RestoreOptions", "RestorePlan", "RestoreResult", "apply_plan",
           "build_plan"]
