"""Sentence embeddings for the semantic view: a numpy BERT encoder and its tokenizer."""
