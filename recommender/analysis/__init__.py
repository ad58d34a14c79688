"""For analysts: evaluation against labels and judgments, and DataFrame views of a model."""
