"""What a built model is turned into: exports for a CMS or a static site, and the link-graph audit."""
