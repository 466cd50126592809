"""Everything Socratis: the data, the demo, the paper's tables, the human-study
kit, reason generation and the Socratis figures (Deng et al. 2023,
arXiv:2308.16741)."""
