"""The main job's library: line judgments up with scores and ask `correlation`
for every number (agreement), scores from files (external_scores), and the
files a run writes (report)."""
