"""pool + full-follow-up reads of ELAINE 1 (both arms) -> pickle"""
import json, sys, pickle, numpy as np
from eralpha.knowledge import knowledge_overrides
from eralpha.trials._schema import load_trial_scenario
from eralpha.trials._run import simulation_days
from eralpha.trials._chunks import simulate_reads
from eralpha.trials._run import DEFAULT_CHUNK
from eralpha.trials._calibrate import select_virtual_patients
from eralpha.trials._simulate import arm_regimen
ov = json.loads(sys.argv[1]); out = sys.argv[2]
scen = sys.argv[3] if len(sys.argv) > 3 else "scenarios/trial_elaine1.yaml"
with knowledge_overrides(ov, origin="sensitivity"):
    s = load_trial_scenario(scen)
    seed = s.seed; days = simulation_days(s); scan_days = s.scan_days()
    def reads_of(label, arm, patients):
        return simulate_reads(label, arm, patients, days, scan_days, seed, chunk=DEFAULT_CHUNK)
    if s.calibration is not None:
        pool, cal, cal_reads = select_virtual_patients(s, s.pool, seed, reads_of)
    else:
        from eralpha.trials._run import eligible_patients
        pool, cal, cal_reads = eligible_patients(s, s.pool, seed), None, None
    reads = {}
    for i, a in enumerate(s.arms):
        name, _, drugs = a.options[0]
        if cal_reads is not None and [ (d.compound, d.regimen) for d in drugs] == [(d.compound, d.regimen) for d in s.calibration.drugs]:
            reads[a.name] = cal_reads
        else:
            reads[a.name] = reads_of(f"arm{i}", arm_regimen(name, drugs, s.design.follow_up), pool)
pickle.dump({"pool": pool, "reads": reads, "cal": cal, "scan_days": scan_days}, open(out, "wb"))
print("ok", pool.n)
