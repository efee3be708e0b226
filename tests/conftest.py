import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("ERALPHA_QUIET", "1")
