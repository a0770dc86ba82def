"""How a state runs a group of records: one :class:`~streamkit.fsm.plans.base.StatePlan` interface.

A plan takes a :class:`~streamkit.fsm.plans.base.Group` — records of one batch in
one state, as column views that also read as Arrow — and returns
:class:`~streamkit.fsm.plans.base.Exits`: the records moving on to other states
or ending in an end state, and the records that failed (or ended skipped or
cancelled), each with a reason. The batch executor (:mod:`streamkit.fsm.execute`)
routes exits and never looks inside a plan.

Implementations: :class:`~streamkit.fsm.plans.kernel.KernelPlan` (a fused numba
kernel) and :class:`~streamkit.fsm.plans.python.PythonPlan` (per-record Python,
for code outside the compiled subset). A new kind of state is a new plan here.
"""

__all__: tuple[str, ...] = ()
