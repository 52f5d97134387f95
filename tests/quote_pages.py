"""Small pages shared by the output and policy tests."""

# Real-looking ticker lines with injected faults: a wrong percent (QC303, twice), an arrow
# pointing the wrong way (QC302) and a stock without its arrow (QC406, a warning).
FAULTY_PAGE = """Markets at a glance
AIRLINK 207.00 Increased By ▲ 6.71 (3.36%)
BOP 10.39 Decreased By ▼ -0.10 (-0.95%)
FFL 17.17 Decreased By ▲ -0.25 (-1.44%)
HUBC 132.30 Increased By 4.49 (3.51%)
KEL 4.96 Decreased By ▼ -0.04 (-0.9%)
"""
