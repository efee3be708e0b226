"""untreated ESR1 wild-type clone doubling (days) of a typical patient at Tpot 4 / 12.65 / 40 days"""
import sys; sys.path.insert(0, "tests")
import numpy as np
import eralpha.trials._simulate as sim
from eralpha.population import CLONE_TYPES
from test_trials import _typical_patients
s, p = _typical_patients(3)
p.biology["tpot_days"] = [4.0, 12.65, 40.0]
days = np.array([0.0, 112.0, 224.0])
traj = sim.simulate_arm(sim.ArmRegimen("untreated", ()), p, days, seed=s.seed)
for v in ("WT", "Y537S", "D538G"):
    f = traj.fold[traj.member_type == CLONE_TYPES.index((v, False)), -1]
    pts = traj.member_patient[traj.member_type == CLONE_TYPES.index((v, False))]
    print(v, {float(p.biology.tpot_days[i]): round(224 * np.log(2) / np.log(x), 1) for i, x in zip(pts, f)})
