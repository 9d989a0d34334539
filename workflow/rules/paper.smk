# Placeholder until issue 15 replaces this file: paper rules and their targets.
PAPER_TARGETS = []
