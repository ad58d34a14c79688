"""Text analysis: the one analyzer per language, the bundled stopwords, language detection."""
