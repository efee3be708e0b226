"""Make the tidy calibration data of the MCF7 example from the shipped He et al. 2025 cell counts.

Source: ``src/eralpha/knowledge/data/reference/mcf7_timecourses/`` (MIT; read its README for the caveats).
Two experiments with the same protocol (45,000 MCF7 cells per 60-mm dish, 10 % CCS, counted weekly, re-dosed
twice a week): 20190621 (10 pM E2; +E2 + fulvestrant 500 nM; +E2 + palbociclib 250 nM (Rep1) / 500 nM (Rep2-4);
-E2 + palbociclib 100 nM) and the 20210517 +E2 control (days by ``day_actual``: 6, 10, 14).

What is done: the three Coulter reads of each dish are averaged, and each dish is divided by the mean T=0
count of the same replicate (fold change, the authors' own normalisation). Nothing else: no rows dropped,
no rescaling. Output: ``src/eralpha/qsp/data/mcf7_growth.csv`` (beside the spec ``mcf7_growth.yaml``) with columns experiment, replicate, day, observable, value
(observable = fold_change) — the long format ``eralpha calibrate`` reads.

Run: ``python examples/calibration/make_mcf7_growth_data.py``
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from eralpha.store import write_text_atomic

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parents[1] / "src" / "eralpha"
SOURCE = PACKAGE / "knowledge" / "data" / "reference" / "mcf7_timecourses"
OUTPUT = PACKAGE / "qsp" / "data" / "mcf7_growth.csv"  # shipped beside its spec, so `eralpha calibrate mcf7-growth` runs anywhere

#: (source file, condition as written) -> experiment id of the spec
ARMS = {
    ("cellcounts_20210517_control_proliferation_E2.csv", "+E2 control"): "e2_10nM",
    ("cellcounts_20190621_palbo250-500_ICI500_lowE2_3week.csv", "+10pM E2"): "e2_10pM",
    ("cellcounts_20190621_palbo250-500_ICI500_lowE2_3week.csv", "+E2+ICI500"): "fulvestrant_500nM",
    ("cellcounts_20190621_palbo250-500_ICI500_lowE2_3week.csv", "+E2+palbo250"): "palbociclib_250nM",
    ("cellcounts_20190621_palbo250-500_ICI500_lowE2_3week.csv", "+E2+palbo500"): "palbociclib_500nM",
    ("cellcounts_20190621_palbo250-500_ICI500_lowE2_3week.csv", "-E2+palbo100"): "noE2_palbociclib_100nM",
}


def tidy() -> pd.DataFrame:
    rows = []
    for file in sorted({f for f, _ in ARMS}):
        d = pd.read_csv(SOURCE / file)
        dish = d.groupby(["replicate", "condition", "day_actual"], as_index=False)["cell_count"].mean()
        t0 = dish[dish["day_actual"] == 0].groupby("replicate")["cell_count"].mean()  # the T=0 dish(es)
        for (f, condition), exp_id in ARMS.items():
            if f != file:
                continue
            arm = dish[(dish["condition"] == condition) & (dish["day_actual"] > 0)]
            for r in arm.itertuples():
                rows.append({"experiment": exp_id, "replicate": int(r.replicate), "day": float(r.day_actual),
                             "observable": "fold_change", "value": r.cell_count / t0[r.replicate]})
    return pd.DataFrame(rows).sort_values(["experiment", "replicate", "day"]).reset_index(drop=True)


if __name__ == "__main__":
    table = tidy()
    write_text_atomic(OUTPUT, table.to_csv(index=False, float_format="%.6g"))
    print(f"wrote {OUTPUT}: {len(table)} rows, {table['experiment'].nunique()} experiments")
