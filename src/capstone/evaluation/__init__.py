"""How good the models are: metrics (a leaf), scores, the scoreboard and its schema, the peers, the analysis figures."""
