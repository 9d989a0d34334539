# Placeholder until issue 15 replaces this file: figure rules and their targets.
FIGURE_TARGETS = []
